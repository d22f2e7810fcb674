import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { apply, applyTwiceConverges, HOSTS, onHost, resetHost, results, writePlaybook } from '../helpers/lab.js';

// community.general.ufw on a lab host: ufw there drives the host's own network namespace and its own /etc/ufw
// (overlay), never the controller's (its tables, `ufw status` and rules files are compared before and after).
// The expected sha1s are those ansible-playbook 2.14 (community.general 6.x) left running the same tasks on a
// fresh lab host.
const host = HOSTS[1] as string;

const TASKS = `
    - community.general.ufw: logging=low
    - ufw: rule=allow port=22 proto=tcp
      register: a
    - assert:
        that:
          - a.commands[3] == '/usr/sbin/ufw allow from any to any port 22 proto tcp'
          - a.msg is match('Status')
    - ufw: rule=limit port=2222 proto=tcp from_ip=10.0.0.0/8 comment="limit ssh"
    - ufw: rule=deny port=8080 proto=udp direction=in to_ip=10.220.0.0/24
    - ufw: rule=reject port=25 delete=yes
    - ufw: rule=allow from=192.0.2.7 direction=out
    - ufw: default=deny direction=incoming
    - ufw: policy=allow direction=outgoing
    - ufw: state=enabled
`;

const controller = () =>
  spawnSync('sh', ['-c', 'iptables -S; ip6tables -S; ufw status verbose; sha1sum /etc/ufw/*.rules /etc/ufw/ufw.conf'], {
    encoding: 'utf8',
  }).stdout;
const play = (tasks: string) =>
  writePlaybook(`- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n${tasks}`);

test("ufw: converges in two runs, rules files and `ufw status verbose` as after Ansible's run, the controller untouched", () => {
  resetHost(host);
  const before = controller();
  try {
    applyTwiceConverges(play(TASKS));
    const sums = onHost(
      host,
      'sudo sha1sum /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf; sudo ufw status verbose | sha1sum',
    ).stdout;
    assert.deepEqual(
      sums
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
      [
        '0216df19fc531dee0a39a171aa799d02da5be7ee',
        '7445a61a61d079db0846012c06732686f6fbf414',
        'd0566728b31fb39aa46df4c1b4bbf86474f08a63',
        'e21df2d46f6902664a36aa89b9a2cfcccaa28d10',
      ],
      sums,
    );
    assert.match(
      onHost(host, 'sudo iptables -S ufw-user-input').stdout,
      /-A ufw-user-input -p tcp -m tcp --dport 22 -j ACCEPT/,
    );
    assert.equal(controller(), before);
  } finally {
    resetHost(host);
  }
});

test('ufw: check mode predicts the change with --dry-run and changes nothing; delete removes the rule', () => {
  resetHost(host);
  try {
    const add = play(
      '    - ufw: rule=allow port=53 proto=udp\n      register: c\n    - assert: { that: "c is not changed or \'/usr/sbin/ufw --dry-run allow from any to any port 53 proto udp\' in c.commands" }\n',
    );
    const check = apply(add, ['--check']);
    assert.equal(results(check)[0]?.status, 'changed');
    assert.equal(results(check)[1]?.status, 'ok', results(check)[1]?.msg);
    assert.doesNotMatch(onHost(host, 'sudo cat /etc/ufw/user.rules').stdout, /dport 53/);
    assert.equal(results(apply(add))[0]?.status, 'changed');
    assert.equal(results(apply(add, ['--check']))[0]?.status, 'ok');
    assert.match(
      onHost(host, 'sudo cat /etc/ufw/user.rules').stdout,
      /^### tuple ### allow udp 53 0\.0\.0\.0\/0 any 0\.0\.0\.0\/0 in$/m,
    );
    assert.equal(results(apply(play('    - ufw: rule=allow port=53 proto=udp delete=yes\n')))[0]?.status, 'changed');
    assert.doesNotMatch(onHost(host, 'sudo cat /etc/ufw/user.rules').stdout, /udp 53/);
    assert.equal(results(apply(play('    - ufw: state=enabled\n'), ['--check']))[0]?.status, 'changed');
    assert.match(onHost(host, 'sudo ufw status').stdout, /inactive/);
  } finally {
    resetHost(host);
  }
});

test('ufw: hostile values reach ufw as arguments, never a shell', () => {
  resetHost(host);
  try {
    const r = apply(
      play(
        `    - ufw: rule=allow port=80 proto=tcp comment="x; touch /tmp/pwned $(touch /tmp/pwned2)"\n    - ufw: rule=allow port="1;touch /tmp/pwned3" proto=tcp\n      ignore_errors: yes\n`,
      ),
    );
    assert.equal(results(r)[0]?.status, 'changed', JSON.stringify(results(r)[0]));
    assert.equal(results(r)[1]?.status, 'failed');
    assert.notEqual(onHost(host, 'ls /tmp/pwned*').code, 0);
    assert.match(
      onHost(host, 'sudo ufw show added').stdout,
      /comment 'x; touch \/tmp\/pwned \$\(touch \/tmp\/pwned2\)'/,
    );
  } finally {
    resetHost(host);
  }
});
