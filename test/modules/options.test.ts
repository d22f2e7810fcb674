import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  apply,
  applyTwiceConverges,
  HOSTS,
  INVENTORY,
  onHost,
  orch,
  resetHost,
  results,
  writePlaybook,
} from '../helpers/lab.js';

// Issue 16 case 4 (options accepted and ignored) and issue 17 point 1 (strict only where it is safe).
const host = HOSTS[0] as string;
const other = HOSTS[1] ?? host;

function play(h: string, tasks: string, extra = ''): string {
  return writePlaybook(`
- hosts: ${h}
  become: yes
  gather_facts: no
${extra}
  tasks:
${tasks}`);
}

const mtime = (h: string, path: string) => Number(onHost(h, `stat -c %Y ${path}`).stdout.trim());

/** An offline apt source on the host: an empty local repository (the lab has no internet). */
function localAptRepo(h: string, suite: string): void {
  const r = onHost(
    h,
    [
      'mkdir -p /srv/orch-repo /etc/apt/orch-off',
      'mv /etc/apt/sources.list.d/* /etc/apt/orch-off/ 2>/dev/null; rm -f /etc/apt/sources.list',
      'cd /srv/orch-repo && : > Packages',
      `printf 'Origin: orch\\nSuite: ${suite}\\nCodename: orch\\nSHA256:\\n %s 0 Packages\\n' "$(sha256sum Packages | cut -d' ' -f1)" > Release`,
      'echo "deb [trusted=yes] file:/srv/orch-repo ./" > /etc/apt/sources.list.d/orch.list',
      'rm -f /var/lib/apt/periodic/update-success-stamp',
      'touch -d "-2 hours" /var/lib/apt/lists',
    ].join('; '),
  );
  assert.equal(r.code, 0, r.stderr);
}

/** The suite apt last fetched from the local repository (what an update changes). */
const fetchedSuite = (h: string) =>
  onHost(h, "sed -n 's/^Suite: //p' /var/lib/apt/lists/_srv_orch-repo_._Release 2>/dev/null").stdout.trim();

test('apt update_cache alone updates the lists; cache_valid_time skips a fresh cache (as Ansible: the lists dir mtime)', () => {
  try {
    localAptRepo(other, 'one');
    const before = mtime(other, '/var/lib/apt/lists');
    const first = apply(play(other, '    - apt: update_cache=yes\n'));
    assert.equal(first.code, 0, first.stderr);
    assert.equal(results(first)[0]?.status, 'changed');
    assert.equal(fetchedSuite(other), 'one');
    const after = mtime(other, '/var/lib/apt/lists');
    assert.ok(after > before, `lists mtime moved (${before} -> ${after})`);
    // the repository changes, but the cache is younger than cache_valid_time: no update
    localAptRepo(other, 'two');
    onHost(other, 'touch /var/lib/apt/lists');
    const fresh = apply(play(other, '    - apt: update_cache=yes cache_valid_time=3600\n'));
    assert.equal(results(fresh)[0]?.status, 'ok');
    assert.equal(fetchedSuite(other), 'one', 'not updated');
    // older than cache_valid_time: updated
    onHost(other, 'touch -d "-2 hours" /var/lib/apt/lists');
    const stale = apply(play(other, '    - apt: update_cache=yes cache_valid_time=3600\n'));
    assert.equal(results(stale)[0]?.status, 'changed');
    assert.equal(fetchedSuite(other), 'two');
    // with a package already installed: the cache is still updated (the task reports no package change)
    localAptRepo(other, 'three');
    const withPkg = apply(play(other, '    - apt: name=perl-base update_cache=yes\n'));
    assert.equal(withPkg.code, 0, withPkg.stderr);
    assert.equal(fetchedSuite(other), 'three');
  } finally {
    resetHost(other);
  }
});

test('connection: local (play and task) runs on the control machine, not on the host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-conn-'));
  const onPlay = join(dir, 'play');
  const onTask = join(dir, 'task');
  onHost(host, `rm -f ${onPlay} ${onTask}`);
  try {
    const r = apply(
      writePlaybook(`
- hosts: ${host}
  gather_facts: no
  connection: local
  tasks:
    - copy: content=local dest=${onPlay}
- hosts: ${host}
  gather_facts: no
  tasks:
    - copy: content=local dest=${onTask}
      connection: local
    - command: hostname
      register: h
    - copy: content="{{ h.stdout }}" dest=${dir}/remote-hostname
      connection: local
`),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(onPlay, 'utf8'), 'local');
    assert.equal(readFileSync(onTask, 'utf8'), 'local');
    assert.equal(
      onHost(host, `test -e ${onPlay} || test -e ${onTask}; echo $?`).stdout.trim(),
      '1',
      'nothing written on the host',
    );
    // the task without the keyword still ran on the host
    assert.equal(readFileSync(join(dir, 'remote-hostname'), 'utf8'), onHost(host, 'hostname').stdout.trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unknown connection plugin fails the task when reached, naming it', () => {
  const r = apply(
    play(
      host,
      '    - command: "true"\n      connection: docker\n    - command: "true"\n      connection: docker\n      when: false\n',
    ),
  );
  assert.equal(r.code, 2);
  const [first, second] = results(r);
  assert.equal(first?.status, 'failed');
  assert.match(first?.msg ?? '', /connection 'docker' is not implemented by orch/);
  assert.equal(second, undefined, 'the host stopped after its failure');
});

test('remote_user (play, task) is the ssh login; an inventory ansible_user wins over it, as in Ansible', () => {
  const key = readFileSync(join(process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab', 'id_ed25519.pub'), 'utf8').trim();
  const setup = onHost(
    host,
    `id oouser >/dev/null 2>&1 || useradd -m -s /bin/sh oouser; mkdir -p ~oouser/.ssh; echo '${key}' > ~oouser/.ssh/authorized_keys; chown -R oouser: ~oouser/.ssh; rm -f /tmp/oo-who-*`,
  );
  assert.equal(setup.code, 0, setup.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'orch-inv-'));
  const inv = join(dir, 'inventory');
  writeFileSync(inv, readFileSync(INVENTORY, 'utf8').replace(/^ansible_user=.*$/m, ''));
  try {
    const pb = writePlaybook(`
- hosts: ${host}
  gather_facts: no
  remote_user: oouser
  tasks:
    - command: whoami
      register: who
    - command: touch /tmp/oo-who-play
    - command: touch /tmp/oo-who-task
      remote_user: deploy
`);
    const run = orch(['run', inv, pb]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(results(run, 'command whoami')[0]?.stdout, 'oouser');
    assert.equal(onHost(host, 'stat -c %U /tmp/oo-who-play').stdout.trim(), 'oouser');
    assert.equal(onHost(host, 'stat -c %U /tmp/oo-who-task').stdout.trim(), 'deploy');
    // with the lab inventory (ansible_user=deploy), the variable wins over the keyword
    onHost(host, 'rm -f /tmp/oo-who-play');
    const withVar = apply(pb);
    assert.equal(withVar.code, 0, withVar.stderr);
    assert.equal(onHost(host, 'stat -c %U /tmp/oo-who-play').stdout.trim(), 'deploy');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file follow: mode applies to the link target (idempotent); follow=no changes the link owner only; stat follow', () => {
  onHost(
    host,
    'rm -rf /tmp/oo-f; mkdir /tmp/oo-f; echo x > /tmp/oo-f/target; chmod 0600 /tmp/oo-f/target; ln -s /tmp/oo-f/target /tmp/oo-f/link',
  );
  applyTwiceConverges(play(host, '    - file: path=/tmp/oo-f/link mode=0640\n'));
  assert.equal(onHost(host, 'stat -c %a /tmp/oo-f/target').stdout.trim(), '640');
  applyTwiceConverges(play(host, '    - file: path=/tmp/oo-f/link owner=nobody follow=no\n'));
  assert.equal(onHost(host, 'stat -c %U /tmp/oo-f/link').stdout.trim(), 'nobody');
  assert.equal(onHost(host, 'stat -c %U /tmp/oo-f/target').stdout.trim(), 'root');
  const st = apply(
    play(
      host,
      '    - stat: path=/tmp/oo-f/link follow=yes\n      register: a\n    - stat: path=/tmp/oo-f/link\n      register: b\n    - assert:\n        that: [a.stat.islnk == false, a.stat.isreg, a.stat.mode == "0640", b.stat.islnk, b.stat.lnk_source == "/tmp/oo-f/target"]\n',
    ),
  );
  assert.equal(st.code, 0, JSON.stringify(results(st).map((x) => x.msg)));
});

test('service (SysV) restart: stop, sleep, start, with arguments after the action', () => {
  const script = [
    '#!/bin/sh',
    'echo "$1 $2 $(date +%s.%N)" >> /tmp/oo-svc.log',
    'case "$1" in start) touch /run/oo-svc.up;; stop) rm -f /run/oo-svc.up;; status) test -e /run/oo-svc.up;; esac',
  ].join('\n');
  onHost(
    host,
    `rm -f /tmp/oo-svc.log /run/oo-svc.up; printf '%s\\n' '${script.replace(/'/g, "'\\''")}' > /etc/init.d/oo-svc; chmod 755 /etc/init.d/oo-svc`,
  );
  const r = apply(play(host, '    - service: name=oo-svc state=restarted sleep=2 arguments=--fast\n'));
  assert.equal(r.code, 0, JSON.stringify(results(r).map((x) => x.msg)));
  const log = onHost(host, 'grep -v ^status /tmp/oo-svc.log')
    .stdout.trim()
    .split('\n')
    .map((l) => l.split(' '));
  assert.deepEqual(
    log.map((l) => `${l[0]} ${l[1]}`),
    ['stop --fast', 'start --fast'],
  );
  const gap = Number(log[1]?.[2]) - Number(log[0]?.[2]);
  assert.ok(gap >= 2, `slept between stop and start (${gap}s)`);
  onHost(host, 'rm -f /etc/init.d/oo-svc /tmp/oo-svc.log /run/oo-svc.up');
});

test('tasks for other OS families and an include behind a false when run on a lab host; reached, they fail naming module, parameter, file:line and host', () => {
  const files = {
    'roles/multi/tasks/main.yml': `
- pacman: name=ntp state=present
  when: ansible_os_family == 'Archlinux'
- pkgng: name=ntp
  when: ansible_os_family == 'FreeBSD'
- community.general.zypper_repository: name=x repo=http://x
  when: ansible_os_family == 'Suse'
- openbsd_pkg: name=ntp
  when: ansible_os_family == 'OpenBSD'
- package: name=ntp enablerepo=epel
  when: ansible_os_family == 'RedHat'
- include_tasks: arch.yml
  when: ansible_os_family == 'Archlinux'
- command: touch /tmp/oo-multi-ran
`,
    'roles/multi/tasks/arch.yml': '- pacman: name=x\n',
  };
  onHost(host, 'rm -f /tmp/oo-multi-ran');
  const pb = writePlaybook(`- hosts: ${host}\n  become: yes\n  roles: [multi]\n`, files);
  const r = apply(pb);
  assert.equal(r.code, 0, JSON.stringify(results(r).filter((x) => x.status === 'failed')));
  assert.equal(onHost(host, 'test -e /tmp/oo-multi-ran; echo $?').stdout.trim(), '0');
  // reached: a module orch lacks
  const mod = apply(
    writePlaybook(`- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - name: arch only\n      pacman: name=x\n`),
  );
  assert.equal(mod.code, 2);
  const m = results(mod)[0];
  assert.match(
    m?.msg ?? '',
    new RegExp(
      `pacman: module is not implemented by orch \\(task 'arch only' at .*playbook.yml:4(:\\d+)?, host ${host}\\)`,
    ),
  );
  // reached: a parameter Ansible has and orch lacks
  const par = apply(
    writePlaybook(
      `- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n    - apt: name=perl-base autoclean=yes\n`,
    ),
  );
  assert.equal(par.code, 2);
  assert.match(
    results(par)[0]?.msg ?? '',
    new RegExp(
      `apt: parameter 'autoclean' is not implemented by orch \\(task .* at .*playbook.yml:5(:\\d+)?, host ${host}\\)`,
    ),
  );
  // reached: a keyword orch lacks (poll: 0 runs command and shell only, as background jobs)
  const kw = apply(
    writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - copy: content=x dest=/tmp/oo-poll0\n      async: 10\n      poll: 0\n`,
    ),
  );
  assert.equal(kw.code, 2);
  assert.match(results(kw)[0]?.msg ?? '', /keyword 'poll: 0 \(async without waiting\)' is not implemented by orch/);
});

test('a role included from a dynamic include_tasks runs (it was dropped)', () => {
  onHost(host, 'rm -f /tmp/oo-dyn-role /tmp/oo-dyn-handler');
  const pb = writePlaybook(
    `- hosts: ${host}\n  become: yes\n  gather_facts: no\n  vars: { which: inc }\n  tasks:\n    - include_tasks: "{{ which }}.yml"\n`,
    {
      'inc.yml': '- include_role:\n    name: dyn\n',
      'roles/dyn/defaults/main.yml': 'dyn_path: /tmp/oo-dyn-role\n',
      'roles/dyn/tasks/main.yml': '- copy: content=ran dest={{ dyn_path }}\n  notify: dyn done\n',
      'roles/dyn/handlers/main.yml': '- name: dyn done\n  command: touch /tmp/oo-dyn-handler\n',
    },
  );
  const r = apply(pb);
  assert.equal(r.code, 0, JSON.stringify(results(r).map((x) => x.msg)));
  assert.equal(onHost(host, 'cat /tmp/oo-dyn-role').stdout, 'ran');
  assert.equal(onHost(host, 'test -e /tmp/oo-dyn-handler; echo $?').stdout.trim(), '0', "the role's handler ran");
});

test('strategy: free runs as linear with a warning; an unknown strategy fails when the play is reached', () => {
  const free = apply(play(host, '    - command: "true"\n', '  strategy: free'));
  assert.equal(free.code, 0);
  assert.ok(free.events.some((e) => e.type === 'warning' && /strategy 'free' runs as 'linear'/.test(e.msg)));
  const bad = apply(play(host, '    - command: "true"\n', '  strategy: fre'));
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr + bad.stdout, /Invalid play strategy specified: fre/);
});

test('throttle: 1 runs the task on one host at a time (it was ignored)', () => {
  const both = HOSTS.slice(0, 2);
  if (both.length < 2) return;
  for (const h of both) onHost(h, 'rm -f /tmp/oo-throttle');
  const times = (h: string) =>
    onHost(h, 'cat /tmp/oo-throttle').stdout.trim().split(/\s+/).map(Number) as [number, number];
  const r = apply(
    writePlaybook(
      `- hosts: ${both.join(',')}\n  gather_facts: no\n  tasks:\n    - shell: date +%s.%N > /tmp/oo-throttle; sleep 1; date +%s.%N >> /tmp/oo-throttle\n      throttle: 1\n`,
    ),
  );
  assert.equal(r.code, 0, r.stderr);
  const [a, b] = both.map(times).sort((x, y) => x[0] - y[0]) as [[number, number], [number, number]];
  assert.ok(b[0] >= a[1], `second host started (${b[0]}) after the first ended (${a[1]})`);
});

test('a task with connection: local never takes an answer fetched ahead over the play connection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-pf-'));
  const path = join(dir, 'f');
  writeFileSync(path, 'control\n');
  onHost(host, `mkdir -p ${dir}; echo host > ${path}`);
  try {
    const r = apply(
      writePlaybook(`
- hosts: ${host}
  gather_facts: no
  tasks:
    - stat: path=${path}
      register: remote
    - stat: path=${path}
      register: local
      connection: local
    - stat: path=/etc/hostname
    - assert:
        that:
          - remote.stat.size == 5
          - local.stat.size == 8
`),
    );
    assert.equal(r.code, 0, JSON.stringify(results(r).map((x) => x.msg)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    onHost(host, `rm -rf ${dir}`);
  }
});

test('port (task keyword) is the ssh port: a wrong one makes the host unreachable (it was ignored)', () => {
  const r = apply(
    writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - command: "true"\n      port: 22\n    - command: "true"\n      port: 9\n`,
    ),
  );
  const [ok, bad] = results(r);
  assert.equal(ok?.status, 'changed', JSON.stringify(ok));
  assert.equal(bad?.status, 'unreachable', JSON.stringify(bad));
});

test('async with polling waits for the task, at most async seconds (it was ignored)', () => {
  const r = apply(
    writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - command: sleep 1\n      async: 20\n      poll: 1\n    - command: sleep 5\n      async: 1\n      poll: 1\n`,
    ),
  );
  const [ok, late] = results(r);
  assert.equal(ok?.status, 'changed', JSON.stringify(ok));
  assert.equal(late?.status, 'failed', JSON.stringify(late));
  assert.match(late?.msg ?? '', /async task did not complete within the requested time - 1s/);
});

test("delegate_facts puts the facts on the delegated host; force_handlers runs a failed host's handlers (both were refused)", () => {
  if (other === host) return;
  const facts = apply(
    writePlaybook(`
- hosts: ${host}
  gather_facts: no
  tasks:
    - set_fact: { oo_mark: from_${host} }
      delegate_to: ${other}
      delegate_facts: true
- hosts: ${host},${other}
  gather_facts: no
  tasks:
    - command: echo "{{ oo_mark | default('none') }}"
      register: m
    - copy: content="{{ m.stdout }}" dest=/tmp/oo-mark
`),
  );
  assert.equal(facts.code, 0, facts.stderr);
  assert.equal(onHost(other, 'cat /tmp/oo-mark').stdout, `from_${host}`);
  assert.equal(onHost(host, 'cat /tmp/oo-mark').stdout, 'none');
  onHost(host, 'rm -f /tmp/oo-forced');
  const forced = apply(
    writePlaybook(`
- hosts: ${host}
  gather_facts: no
  force_handlers: true
  tasks:
    - command: "true"
      notify: mark
    - command: "false"
  handlers:
    - name: mark
      command: touch /tmp/oo-forced
`),
  );
  assert.equal(forced.code, 2);
  assert.equal(
    onHost(host, 'test -e /tmp/oo-forced; echo $?').stdout.trim(),
    '0',
    'the handler ran on the failed host',
  );
});

test('module_defaults (play, block; short or FQCN names) fill arguments the task leaves out (was refused)', () => {
  onHost(host, 'rm -f /tmp/oo-md1 /tmp/oo-md2 /tmp/oo-md3');
  const r = apply(
    writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
  module_defaults:
    ansible.builtin.file: { mode: '0600' }
  tasks:
    - file: path=/tmp/oo-md1 state=touch
    - file: path=/tmp/oo-md2 state=touch mode=0640
    - block:
        - ansible.builtin.file: path=/tmp/oo-md3 state=touch
      module_defaults:
        file: { mode: '0604' }
`),
  );
  assert.equal(r.code, 0, JSON.stringify(results(r).map((x) => x.msg)));
  assert.equal(
    onHost(host, 'stat -c %a /tmp/oo-md1 /tmp/oo-md2 /tmp/oo-md3').stdout.trim().split('\n').join(' '),
    '600 640 604',
  );
});
