import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { apply, applyTwiceConverges, HOSTS, onHost, resetHost, results, ROOT, writePlaybook } from '../helpers/lab.js';

// apt_key, apt_repository (signed-by keyrings) and apt's default_release against a signed local apt repository
// built on the lab host (test/helpers/local-apt-repo.sh: no network). The sha1 of each sources file is the one
// ansible-playbook 2.14 left running the same tasks on a fresh lab host.
const host = HOSTS[0] as string;

function prepare(): void {
  resetHost(host);
  const script = readFileSync(join(ROOT, 'test', 'helpers', 'local-apt-repo.sh'), 'utf8');
  const b64 = Buffer.from(script).toString('base64');
  const r = onHost(
    host,
    `echo ${b64} | base64 -d | sudo bash 2>&1 && sudo mv /etc/apt/sources.list.d/debian.sources /etc/apt/debian.sources.off && sudo mkdir -p /etc/apt/keyrings`,
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
}

const TASKS = `
    - apt_key: file=/srv/orch-repo/key.asc keyring=/etc/apt/keyrings/orch.gpg
      register: k
    - assert:
        that: [k.id | length == 16, k.fp == k.id, k.short_id | length == 8, k.key_id == k.id, k.before is defined]
    - apt_repository: repo="deb [signed-by=/etc/apt/keyrings/orch.gpg] file:/srv/orch-repo orchstable main"
      register: repo
    - assert:
        that: [repo.repo is search('orchstable'), repo.state == 'present']
    - copy: src=orch-bp.asc dest=/etc/apt/keyrings/orch-bp.asc mode=0644
    - apt_repository: repo="deb [signed-by=/etc/apt/keyrings/orch-bp.asc] file:/srv/orch-repo orchbackports main" filename=orch-backports mode=0600
    - apt: name=orch-hello default_release=orchbackports
    - apt_repository: repo="deb http://deb.example.invalid/x stable main" state=absent
`;

test("apt_key + apt_repository signed-by + apt default_release: converge, sources byte-identical to Ansible's, 2.0 installed from the pinned release", () => {
  prepare();
  try {
    // the armored key from the controller, as roles ship it in files/ (apt reads .asc keyrings in signed-by)
    const asc = onHost(host, 'cat /srv/orch-repo/key.asc').stdout;
    applyTwiceConverges(
      writePlaybook(`- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n${TASKS}`, {
        'files/orch-bp.asc': asc,
      }),
    );
    const sums = onHost(
      host,
      'cd /etc/apt/sources.list.d && sudo sha1sum file_srv_orch_repo.list orch-backports.list && stat -c "%n %a" *.list',
    ).stdout;
    assert.equal(
      sums,
      '4f4e0120c864775388a52d61781c833b5d3e3a8d  file_srv_orch_repo.list\na9f5260c846b042cfb8457359c0fa8aa6bdc984b  orch-backports.list\nfile_srv_orch_repo.list 644\norch-backports.list 600\n',
    );
    assert.match(onHost(host, 'apt-cache policy orch-hello').stdout, /Installed: 2\.0/);
    assert.match(
      onHost(host, 'sudo apt-key --keyring /etc/apt/keyrings/orch.gpg list 2>/dev/null').stdout,
      /orch test repo/,
    );

    // apt's other options: a downgrade (allow_downgrade) with policy_rc_d (the host's own policy-rc.d put back),
    // then upgrade=dist from the pinned release, changed once and then ok; check mode predicts it
    const policy = onHost(host, 'sha1sum /usr/sbin/policy-rc.d 2>&1').stdout;
    const down = apply(
      writePlaybook(
        `- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n    - apt: name=orch-hello=1.0 allow_downgrade=yes policy_rc_d=101 lock_timeout=30 dpkg_options=force-confold\n`,
      ),
    );
    assert.equal(results(down)[0]?.status, 'changed', results(down)[0]?.msg);
    assert.match(onHost(host, 'apt-cache policy orch-hello').stdout, /Installed: 1\.0/);
    assert.equal(onHost(host, 'sha1sum /usr/sbin/policy-rc.d 2>&1').stdout, policy);
    const upgrade = writePlaybook(
      `- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n    - apt: upgrade=dist default_release=orchbackports\n`,
    );
    assert.equal(results(apply(upgrade, ['--check']))[0]?.status, 'changed');
    const all = writePlaybook(
      `- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n    - apt: name='*' state=latest default_release=orchbackports\n`,
    );
    assert.equal(
      results(apply(all, ['--check']))[0]?.status,
      'changed',
      "name='*' state=latest upgrades as upgrade=yes",
    );
    assert.match(onHost(host, 'apt-cache policy orch-hello').stdout, /Installed: 1\.0/);
    assert.equal(results(apply(upgrade))[0]?.status, 'changed');
    assert.match(onHost(host, 'apt-cache policy orch-hello').stdout, /Installed: 2\.0/);
    assert.equal(results(apply(upgrade))[0]?.status, 'ok');
    assert.equal(results(apply(all))[0]?.status, 'ok');

    // check mode reports the removal and leaves the file; the real run deletes the emptied file
    const absent = writePlaybook(
      `- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n    - apt_repository: repo="deb [signed-by=/etc/apt/keyrings/orch-bp.asc] file:/srv/orch-repo orchbackports main" state=absent update_cache=no\n`,
    );
    const check = apply(absent, ['--check']);
    assert.equal(results(check)[0]?.status, 'changed');
    assert.equal(onHost(host, 'test -f /etc/apt/sources.list.d/orch-backports.list').code, 0);
    assert.equal(results(apply(absent))[0]?.status, 'changed');
    assert.notEqual(onHost(host, 'test -e /etc/apt/sources.list.d/orch-backports.list').code, 0);

    // a source apt cannot fetch fails the task with Ansible's message and the sources are put back
    const bad = apply(
      writePlaybook(
        `- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n    - apt_repository: repo="deb file:/srv/no-such-repo x main" update_cache_retries=1\n`,
      ),
    );
    assert.match(String(results(bad)[0]?.msg), /^Failed to update apt cache: /);
    assert.notEqual(onHost(host, 'test -e /etc/apt/sources.list.d/file_srv_no_such_repo.list').code, 0);
  } finally {
    resetHost(host);
  }
});

test('apt_key from a url, from data and from a keyserver (offline HKP), removal by id; apt_repository over http; apt deb from a url and a path: converge, keys seen by apt-key', () => {
  prepare();
  // the repository served over http inside the host's own namespace (loopback): no network beyond it
  assert.equal(
    onHost(
      host,
      'cd /srv/orch-repo && (setsid nohup python3 -m http.server --bind 127.0.0.1 8765 >/dev/null 2>&1 < /dev/null &) ; sleep 1; curl -fsS http://127.0.0.1:8765/fingerprint >/dev/null',
    ).code,
    0,
  );
  const hkp = Buffer.from(readFileSync(join(ROOT, 'test', 'helpers', 'hkp-keyserver.py'))).toString('base64');
  assert.equal(
    onHost(
      host,
      `echo ${hkp} | base64 -d > /tmp/hkp.py && (setsid nohup python3 /tmp/hkp.py >/dev/null 2>&1 < /dev/null &); sleep 1`,
    ).code,
    0,
  );
  const fp = onHost(host, 'cat /srv/orch-repo/fingerprint').stdout.trim();
  try {
    const tasks = `
    - apt_key: id=${fp} keyserver=hkp://127.0.0.1:11371 keyring=/usr/share/keyrings/orch-hkp.gpg
      register: hkp
    - assert: { that: ["hkp.key_id == '${fp}'", "hkp.fp == '${fp.slice(-16)}'", "hkp.short_id == '${fp.slice(-8)}'"] }
    - apt_key: url=http://127.0.0.1:8765/key.asc keyring=/etc/apt/keyrings/orch-url.gpg
    - slurp: src=/srv/orch-repo/key.asc
      register: key
    - apt_key:
        data: "{{ key.content | b64decode }}"
        keyring: /etc/apt/keyrings/orch-data.gpg
    - apt_repository: repo="deb [signed-by=/etc/apt/keyrings/orch-url.gpg] http://127.0.0.1:8765 orchstable main"
    - apt: name=orch-hello
    - apt: deb=http://127.0.0.1:8765/pool/orch-hello_2.0_all.deb
    - apt: deb=/srv/orch-repo/pool/orch-hello_2.0_all.deb
      register: local_deb
    - assert: { that: local_deb is not changed }
`;
    applyTwiceConverges(writePlaybook(`- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n${tasks}`));
    for (const k of ['/etc/apt/keyrings/orch-url', '/etc/apt/keyrings/orch-data', '/usr/share/keyrings/orch-hkp'])
      assert.match(
        onHost(host, `sudo apt-key --keyring ${k}.gpg adv --list-public-keys --with-colons 2>/dev/null`).stdout,
        new RegExp(`^fpr:+${fp}:`, 'm'),
      );
    assert.equal(
      onHost(host, 'cat /etc/apt/sources.list.d/127_0_0_1_8765.list').stdout,
      'deb [signed-by=/etc/apt/keyrings/orch-url.gpg] http://127.0.0.1:8765 orchstable main\n',
    );
    assert.match(
      onHost(host, 'apt-cache policy orch-hello').stdout,
      /Installed: 2\.0[\s\S]*http:\/\/127\.0\.0\.1:8765 orchstable/,
    );
    const remove = writePlaybook(
      `- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n    - apt_key: id=${fp} keyring=/etc/apt/keyrings/orch-data.gpg state=absent\n`,
    );
    assert.equal(results(apply(remove))[0]?.status, 'changed');
    assert.equal(results(apply(remove))[0]?.status, 'ok');
    assert.doesNotMatch(
      onHost(
        host,
        'sudo apt-key --keyring /etc/apt/keyrings/orch-data.gpg adv --list-public-keys --with-colons 2>/dev/null',
      ).stdout,
      new RegExp(fp),
    );
  } finally {
    resetHost(host);
  }
});
