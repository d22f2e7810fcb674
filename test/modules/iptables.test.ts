import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { apply, applyTwiceConverges, HOSTS, onHost, resetHost, results, writePlaybook } from '../helpers/lab.js';

// iptables on a lab host (its own network namespace: the rules are private to it; the controller's tables are
// compared before and after). The expected `iptables -S` is what ansible-playbook 2.14 left running the same
// tasks on a fresh lab host.
const host = HOSTS[1] as string;

const TASKS = `
    - iptables: chain=INPUT protocol=tcp destination_port=22 ctstate=NEW,ESTABLISHED jump=ACCEPT comment="ssh; it's -j DROP"
      register: a
    - assert:
        that:
          - a.rule == "-p tcp -j ACCEPT --destination-port 22 -m conntrack --ctstate NEW,ESTABLISHED -m comment --comment ssh; it's -j DROP"
          - a.chain == 'INPUT' and a.table == 'filter' and a.ip_version == 'ipv4' and a.state == 'present'
          - a.flush == false and a.chain_management == false
    - iptables:
        chain: INPUT
        action: insert
        rule_num: 1
        source: 10.0.0.0/8
        protocol: tcp
        destination_ports: ["80", "443:445"]
        jump: ACCEPT
    - iptables: chain=INPUT in_interface=lo jump=ACCEPT
    - iptables: chain=INPUT protocol=tcp destination_port=2222 jump=DROP state=absent
    - iptables: chain=INPUT protocol=icmp icmp_type=echo-request limit=5/second jump=ACCEPT
    - iptables: chain=OUTPUT log_prefix="OUT " log_level=4 protocol=udp destination_port="!53"
    - iptables: chain=ORCH-CHAIN chain_management=true source=192.0.2.1 jump=RETURN
    - iptables: chain=FORWARD policy=DROP
    - iptables: table=nat chain=POSTROUTING out_interface=eth0 jump=MASQUERADE
    - iptables: chain=INPUT reject_with=tcp-reset protocol=tcp destination_port=23
    - iptables: chain=INPUT ip_version=ipv6 protocol=tcp destination_port=22 jump=ACCEPT
    - iptables: chain=ORCH-GONE state=absent
`;

const EXPECTED = `-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N ORCH-CHAIN
-A INPUT -s 10.0.0.0/8 -p tcp -m multiport --dports 80,443:445 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW,ESTABLISHED -m comment --comment "ssh; it\\'s -j DROP" -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p icmp -m limit --limit 5/sec -m icmp --icmp-type 8 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 23 -j REJECT --reject-with tcp-reset
-A OUTPUT -p udp -m udp ! --dport 53 -j LOG --log-prefix "OUT "
-A ORCH-CHAIN -s 192.0.2.1/32 -j RETURN
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-A POSTROUTING -o eth0 -j MASQUERADE
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
`;

const controllerRules = () =>
  spawnSync('sh', ['-c', 'iptables -S; iptables -t nat -S; ip6tables -S'], { encoding: 'utf8' }).stdout;
const hostRules = () => onHost(host, 'sudo iptables -S; sudo iptables -t nat -S; sudo ip6tables -S').stdout;
const play = (tasks: string) =>
  writePlaybook(`- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n${tasks}`);

test('iptables: converges in two runs to the rules Ansible makes (iptables -S in the host), the controller untouched', () => {
  resetHost(host);
  const before = controllerRules();
  try {
    applyTwiceConverges(play(TASKS));
    assert.equal(hostRules(), EXPECTED);
    assert.equal(controllerRules(), before);
  } finally {
    resetHost(host);
  }
});

test('iptables: check mode reports the change and leaves the tables; flush and state=absent remove rules', () => {
  resetHost(host);
  try {
    const add = play('    - iptables: chain=INPUT protocol=tcp destination_port=8080 jump=ACCEPT\n');
    assert.equal(results(apply(add, ['--check']))[0]?.status, 'changed');
    assert.doesNotMatch(hostRules(), /8080/);
    assert.equal(results(apply(add))[0]?.status, 'changed');
    assert.match(hostRules(), /-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT/);
    assert.equal(
      results(
        apply(play('    - iptables: chain=INPUT protocol=tcp destination_port=8080 jump=ACCEPT state=absent\n')),
      )[0]?.status,
      'changed',
    );
    assert.doesNotMatch(hostRules(), /8080/);
    apply(add);
    const flush = apply(play('    - iptables: chain=INPUT flush=yes\n'));
    assert.equal(results(flush)[0]?.status, 'changed', 'flush always reports changed, as Ansible');
    assert.doesNotMatch(hostRules(), /-A INPUT/);
  } finally {
    resetHost(host);
  }
});

test('iptables: hostile values stay one argument each (quotes, ;, newline, leading -) and are never run by a shell', () => {
  resetHost(host);
  try {
    const r = apply(
      play(
        `    - iptables:\n        chain: INPUT\n        comment: "x'; touch /tmp/pwned; echo '\\n-j DROP $(id)"\n        jump: ACCEPT\n`,
      ),
    );
    assert.equal(results(r)[0]?.status, 'changed', JSON.stringify(results(r)[0]));
    assert.notEqual(onHost(host, 'test -e /tmp/pwned').code, 0);
    assert.match(hostRules(), /--comment "x\\'; touch \/tmp\/pwned; echo \\'\n-j DROP \$\(id\)" -j ACCEPT/);
    const bad = apply(play('    - iptables: chain="-F" jump=ACCEPT\n'));
    assert.equal(results(bad)[0]?.status, 'failed');
  } finally {
    resetHost(host);
  }
});
