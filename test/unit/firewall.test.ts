import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constructRule } from '../../src/modules/iptables-rule.js';
import { planIptables } from '../../src/modules/iptables.js';
import { defaultChanged, loggingChanged, ruleChanged } from '../../src/modules/ufw.js';

// constructRule's expected arguments are ansible-core 2.14's construct_rule for the same params.
const base = {
  table: 'filter',
  ip_version: 'ipv4',
  match: [],
  ctstate: [],
  destination_ports: [],
  syn: 'ignore',
  state: 'present',
};

test("iptables builds the rule with the flags in Ansible's order", () => {
  assert.deepEqual(
    constructRule({ ...base, protocol: 'tcp', destination_port: '22', ctstate: ['NEW'], jump: 'ACCEPT', comment: 'c' }),
    [
      '-p',
      'tcp',
      '-j',
      'ACCEPT',
      '--destination-port',
      '22',
      '-m',
      'conntrack',
      '--ctstate',
      'NEW',
      '-m',
      'comment',
      '--comment',
      'c',
    ],
  );
  assert.deepEqual(
    constructRule({ ...base, match: ['state'], ctstate: ['ESTABLISHED', 'RELATED'], source: '!10.0.0.1' }),
    ['!', '-s', '10.0.0.1', '-m', 'state', '--state', 'ESTABLISHED,RELATED'],
  );
  assert.deepEqual(
    constructRule({ ...base, destination_ports: ['80', '443'], reject_with: 'tcp-reset', protocol: 'tcp' }),
    ['-p', 'tcp', '-m', 'multiport', '--dports', '80,443', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
  );
  assert.deepEqual(
    constructRule({
      ...base,
      ip_version: 'ipv6',
      protocol: 'icmpv6',
      icmp_type: 'echo-request',
      src_range: '1.1.1.1-1.1.1.9',
      limit: '5/s',
    }),
    [
      '-p',
      'icmpv6',
      '-m',
      'iprange',
      '--src-range',
      '1.1.1.1-1.1.1.9',
      '-m',
      'limit',
      '--limit',
      '5/s',
      '--icmpv6-type',
      'echo-request',
    ],
  );
  assert.deepEqual(
    constructRule({ ...base, syn: 'negate', uid_owner: '0', tcp_flags: { flags: ['ALL'], flags_set: ['ACK', 'SYN'] } }),
    ['--tcp-flags', 'ALL', 'ACK,SYN', '!', '--syn', '-m', 'owner', '--uid-owner', '0'],
  );
});

test('iptables decides changed as Ansible: -C result against state, policy, flush always, chain deletion', () => {
  assert.equal(planIptables({ ...base, chain: 'INPUT', jump: 'ACCEPT' }, { effective: {}, rulePresent: true }), null);
  assert.equal(planIptables({ ...base, chain: 'INPUT', jump: 'ACCEPT' }, { effective: {}, rulePresent: false }), 'add');
  assert.equal(
    planIptables({ ...base, chain: 'INPUT', jump: 'ACCEPT', state: 'absent' }, { effective: {}, rulePresent: true }),
    'remove',
  );
  assert.equal(planIptables({ ...base, chain: 'INPUT', flush: true }, { effective: {} }), 'flush');
  assert.equal(planIptables({ ...base, chain: 'INPUT', policy: 'DROP' }, { effective: {}, policy: 'DROP' }), null);
  assert.throws(
    () => planIptables({ ...base, chain: 'INPUT', policy: 'DROP' }, { effective: {}, policy: null }),
    /Can't detect current policy/,
  );
  assert.equal(
    planIptables({ ...base, chain: 'X', state: 'absent' }, { effective: {}, chainPresent: true }),
    'delete-chain',
  );
});

test('ufw decides changed as community.general.ufw: logging level, default policy in check mode, dry-run rules', () => {
  const status = 'Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), disabled (routed)\n';
  assert.equal(loggingChanged('low', status), false);
  assert.equal(loggingChanged('on', status), false);
  assert.equal(loggingChanged('high', status), true);
  assert.equal(loggingChanged('off', status), true);
  assert.equal(loggingChanged('on', 'Status: inactive\n'), true);
  assert.equal(defaultChanged('deny', undefined, status), false);
  assert.equal(defaultChanged('deny', 'outgoing', status), true);
  assert.equal(defaultChanged('allow', 'routed', status), false, 'routed disabled never counts as a change');
  const pre = '### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n';
  assert.equal(
    ruleChanged(
      { from_ip: 'any', to_ip: 'any' },
      pre,
      'Skipping adding existing rule\nSkipping adding existing rule (v6)\n',
    ),
    false,
  );
  assert.equal(
    ruleChanged(
      { from_ip: '10.0.0.1', to_ip: 'any' },
      pre,
      `*filter\n${pre}### tuple ### allow any any 0.0.0.0/0 any 10.0.0.1 in\n`,
    ),
    true,
  );
});
