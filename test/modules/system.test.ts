import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apply, applyTwiceConverges, HOSTS, onHost, results, writePlaybook } from '../helpers/lab.js';

const host = HOSTS[1] as string;

function play(tasks: string, extra = ''): string {
  return writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
${extra}
  tasks:
${tasks}`);
}

test('sysctl: file and live value (per-namespace key), idempotent; read-only global key is a clear error', () => {
  onHost(host, 'rm -f /etc/sysctl.d/60-orch-test.conf; echo 4096 > /proc/sys/net/core/somaxconn');
  const pb = play(`
    - sysctl: name=net.core.somaxconn value=2048 sysctl_file=/etc/sysctl.d/60-orch-test.conf
    - sysctl: name=net.ipv4.ip_local_port_range value="10240 65000" sysctl_file=/etc/sysctl.d/60-orch-test.conf
`);
  applyTwiceConverges(pb);
  assert.equal(onHost(host, 'sysctl -n net.core.somaxconn').stdout.trim(), '2048');
  assert.equal(
    onHost(host, 'sysctl -n net.ipv4.ip_local_port_range').stdout.trim().replace(/\s+/g, ' '),
    '10240 65000',
  );
  assert.equal(
    onHost(host, 'cat /etc/sysctl.d/60-orch-test.conf').stdout,
    'net.core.somaxconn=2048\nnet.ipv4.ip_local_port_range=10240 65000\n',
  );
  const before = onHost(host, 'sysctl -n vm.swappiness').stdout.trim();
  const ro = apply(play('    - sysctl: name=vm.swappiness value=7 sysctl_file=/etc/sysctl.d/60-orch-test.conf\n'));
  assert.equal(ro.code, 2);
  assert.match(results(ro)[0]?.msg ?? '', /vm.swappiness is read-only on this host/);
  assert.equal(onHost(host, 'sysctl -n vm.swappiness').stdout.trim(), before);
});

test('cron: cron.d entry and user crontab, named, idempotent', () => {
  onHost(host, 'rm -f /etc/cron.d/orch-test; crontab -r -u deploy 2>/dev/null; true');
  const pb = play(`
    - cron: name=nightly minute=5 hour=2 user=root job="flock -n /run/orch-test.lock true" cron_file=orch-test
    - cron: name=hourly special_time=hourly user=deploy job="echo hi"
`);
  applyTwiceConverges(pb);
  assert.equal(
    onHost(host, 'cat /etc/cron.d/orch-test').stdout,
    '#Ansible: nightly\n5 2 * * * root flock -n /run/orch-test.lock true\n',
  );
  assert.equal(onHost(host, 'stat -c %a /etc/cron.d/orch-test').stdout.trim(), '644');
  assert.match(onHost(host, 'crontab -l -u deploy').stdout, /#Ansible: hourly\n@hourly echo hi\n/);
  const rm = apply(play('    - cron: name=nightly cron_file=orch-test state=absent\n'));
  assert.equal(rm.code, 0);
  assert.equal(onHost(host, 'cat /etc/cron.d/orch-test 2>/dev/null || echo gone').stdout.trim(), 'gone');
});

test('mount: tmpfs in fstab and mounted; options change remounts', () => {
  onHost(host, 'umount /mnt/orch-test 2>/dev/null; sed -i "\\#/mnt/orch-test#d" /etc/fstab; true');
  const pb = (opts: string) =>
    play(`    - mount: path=/mnt/orch-test src=tmpfs fstype=tmpfs opts=${opts} state=mounted\n`);
  applyTwiceConverges(pb('size=16m,noatime'));
  assert.match(onHost(host, 'findmnt -n -o FSTYPE,OPTIONS /mnt/orch-test').stdout, /^tmpfs .*noatime.*size=16384k/);
  assert.match(
    onHost(host, 'grep /mnt/orch-test /etc/fstab').stdout,
    /^tmpfs \/mnt\/orch-test tmpfs size=16m,noatime 0 0$/m,
  );
  applyTwiceConverges(pb('size=32m,noatime'));
  assert.match(onHost(host, 'findmnt -n -o OPTIONS /mnt/orch-test').stdout, /size=32768k/);
  const un = apply(play('    - mount: path=/mnt/orch-test state=absent\n'));
  assert.equal(un.code, 0);
  assert.equal(onHost(host, 'findmnt /mnt/orch-test >/dev/null && echo mounted || echo not').stdout.trim(), 'not');
  assert.equal(onHost(host, 'grep -c /mnt/orch-test /etc/fstab || true').stdout.trim(), '0');
});

test('user and group', () => {
  onHost(host, 'userdel -r orchuser 2>/dev/null; groupdel orchgrp 2>/dev/null; true');
  const pb = play(`
    - group: name=orchgrp gid=2345
    - user: name=orchuser shell=/bin/sh groups=orchgrp home=/home/orchuser
`);
  applyTwiceConverges(pb);
  assert.equal(onHost(host, 'getent group orchgrp | cut -d: -f3').stdout.trim(), '2345');
  assert.match(onHost(host, 'getent passwd orchuser').stdout, /:\/home\/orchuser:\/bin\/sh$/m);
  assert.match(onHost(host, 'id -Gn orchuser').stdout, /orchgrp/);
});

test('command and shell: rc, creates/removes, stdin, chdir, failure', () => {
  onHost(host, 'rm -f /tmp/orch-created');
  const pb = play(`
    - command: touch /tmp/orch-created creates=/tmp/orch-created
    - shell: cat | tr a-z A-Z
      args:
        stdin: hello
      register: up
      changed_when: false
    - assert: { that: ["up.stdout == 'HELLO'", "up.rc == 0"] }
    - command: pwd chdir=/etc
      register: wd
      changed_when: false
    - assert: { that: "wd.stdout == '/etc'" }
    # as Ansible 2.14: $HOME is expanded in the arguments; no shell runs, so the rest stays text
    - command: echo "$HOME; rm -rf /"
      register: lit
      changed_when: false
    - assert: { that: "lit.stdout.endswith('; rm -rf /') and '$' not in lit.stdout and lit.stdout.startswith('/')" }
`);
  const { first } = applyTwiceConverges(pb);
  assert.equal(results(first).find((r) => r.module === 'command')?.status, 'changed');
  const fail = apply(play('    - shell: echo boom >&2; exit 3\n'));
  assert.equal(fail.code, 2);
  const r = results(fail)[0];
  assert.equal(r?.rc, 3);
  assert.match(r?.stderr ?? '', /boom/);
  // check mode asks creates/removes only (a probe): ok when the guard says no, changed (would run) otherwise, as
  // Ansible
  onHost(host, 'rm -f /tmp/orch-absent');
  const guards = apply(
    play(`    - command: touch /tmp/orch-absent creates=/tmp/orch-created
    - command: touch /tmp/orch-absent creates=/tmp/orch-absent
    - command: touch /tmp/orch-absent removes=/tmp/orch-absent
    - command: touch /tmp/orch-absent removes=/tmp/orch-created chdir=/tmp
`),
    ['--check'],
  );
  assert.deepEqual(
    results(guards).map((x) => x.status),
    ['ok', 'changed', 'ok', 'changed'],
  );
  assert.equal(onHost(host, 'test -e /tmp/orch-absent; echo $?').stdout.trim(), '1', 'check mode ran nothing');
});

test('service (init.d), apt (offline cache), wait_for and uri', () => {
  onHost(host, 'service cron stop >/dev/null 2>&1; true');
  // an HTTP server on the host's own loopback for uri (no network beyond the lab)
  const www = '/tmp/orch-uri-www';
  onHost(
    host,
    `rm -rf ${www}; mkdir -p ${www} && echo "hello from the host" > ${www}/page.txt && cd ${www} && ` +
      '{ setsid python3 -m http.server 8089 --bind 127.0.0.1 >/dev/null 2>access.log </dev/null & echo $! > pid; } && ' +
      'for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:8089/ && break; sleep 0.1; done',
  );
  const pb = play(`
    - apt: name=jq state=present
    - service: name=cron state=started
    - wait_for: path=/etc/hostname timeout=5
    - command: jq -n 1+1
      register: jq
      changed_when: false
    - assert: { that: "jq.stdout == '2'" }
    - uri: url=http://127.0.0.1:8089/page.txt return_content=yes
      register: page
    - assert: { that: "page.status == 200 and page.content == 'hello from the host\\n'" }
`);
  try {
    applyTwiceConverges(pb);
    // the server saw orch's two GETs (one per run)
    assert.equal(onHost(host, `grep -c '"GET /page.txt HTTP' ${www}/access.log`).stdout.trim(), '2');
  } finally {
    onHost(host, `kill $(cat ${www}/pid) 2>/dev/null; rm -rf ${www}`);
  }
  assert.equal(onHost(host, 'dpkg-query -W -f "\\${Status}" jq').stdout, 'install ok installed');
  assert.match(onHost(host, 'pgrep -x cron').stdout, /^\d+/);
  const stop = apply(play('    - service: name=cron state=stopped\n'));
  assert.equal(stop.code, 0);
  assert.equal(onHost(host, 'pgrep -x cron || echo none').stdout.trim(), 'none');
  const waitFail = apply(play('    - wait_for: port=9 host=127.0.0.1 timeout=1\n'));
  assert.equal(waitFail.code, 2);
  assert.match(results(waitFail)[0]?.msg ?? '', /Timeout when waiting for 127.0.0.1:9/);
});
