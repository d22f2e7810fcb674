import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError } from '../../../src/core/errors.js';
import { batches, orderHosts, renderSerial, serialStop } from '../../../src/executor/batches.js';
import { resultLines, runMockPlaybook } from '../../helpers/mock-transport.js';
import { playOf, scopeOf } from '../../helpers/playbook.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);
const sizes = (b: string[][]) => b.map((x) => x.length);
const pos = { file: 'site.yml', line: 3 };

test('batches: no serial is one batch of every host', () => {
  assert.deepEqual(batches(hosts(3), []), [['h1', 'h2', 'h3']]);
});

test('batches: serial as a number cuts batches of that size, the last one shorter', () => {
  assert.deepEqual(batches(hosts(5), [2]), [['h1', 'h2'], ['h3', 'h4'], ['h5']]);
});

test('batches: a percentage is of all the play hosts, rounded down, never below one host', () => {
  assert.deepEqual(sizes(batches(hosts(10), ['30%'])), [3, 3, 3, 1]);
  assert.deepEqual(sizes(batches(hosts(10), ['25%'])), [2, 2, 2, 2, 2], '2.5 hosts: two');
  assert.deepEqual(sizes(batches(hosts(3), ['10%'])), [1, 1, 1], '10% of 3 is 0.3: one host');
  assert.deepEqual(sizes(batches(hosts(4), ['100%'])), [4]);
});

test('batches: a list of sizes is used in turn and its last size repeats', () => {
  assert.deepEqual(sizes(batches(hosts(10), [1, '20%', 3])), [1, 2, 3, 3, 1]);
});

test('renderSerial: templated values and numeric strings become numbers, percentages stay strings', () => {
  const s = scopeOf({ n: 2, p: '25%' });
  assert.deepEqual(renderSerial(['{{ n }}', '{{ p }}', '3', 4, ' 50% '], s, pos), [2, '25%', 3, 4, ' 50% ']);
});

test('renderSerial: a value that is neither a number nor a percentage is a ParseError naming it', () => {
  assert.throws(
    () => renderSerial(['{{ x }}'], scopeOf({ x: 'half' }), pos),
    (e) => e instanceof ParseError && /serial: 'half' is not a number or a percentage/.test(e.message),
  );
});

test('serialStop: max_fail_percentage stops only when the share of failed hosts is strictly above it', () => {
  assert.equal(serialStop(1, 4, 25, true), undefined, '25% failed is not above 25%');
  assert.equal(serialStop(2, 4, 25, true), 'max_fail_percentage 25% exceeded (2 of 4 hosts failed)');
  assert.equal(serialStop(1, 4, 0, false), 'max_fail_percentage 0% exceeded (1 of 4 hosts failed)', 'even the last');
});

test('serialStop: a batch where every host failed stops the play only when more batches follow', () => {
  assert.equal(serialStop(2, 2, undefined, true), 'every host of this batch failed');
  assert.equal(serialStop(2, 2, undefined, false), undefined);
  assert.equal(serialStop(1, 2, undefined, true), undefined);
});

test('orderHosts: inventory, reverse_inventory, sorted, reverse_sorted keep or sort; shuffle keeps the same hosts', () => {
  const play = playOf('- hosts: all\n  tasks: []\n');
  const inv = ['b', 'c', 'a'];
  assert.deepEqual(orderHosts(inv, 'inventory', play), ['b', 'c', 'a']);
  assert.deepEqual(orderHosts(inv, 'reverse_inventory', play), ['a', 'c', 'b']);
  assert.deepEqual(orderHosts(inv, 'sorted', play), ['a', 'b', 'c']);
  assert.deepEqual(orderHosts(inv, 'reverse_sorted', play), ['c', 'b', 'a']);
  assert.deepEqual([...orderHosts(inv, 'shuffle', play)].sort(), ['a', 'b', 'c']);
  assert.deepEqual(inv, ['b', 'c', 'a'], 'the list given is not reordered in place');
  assert.throws(() => orderHosts(inv, 'random', play), /order: 'random' is not one of/);
});

test('play serial: batch_start per batch, and each batch runs all its tasks before the next batch starts', async () => {
  const m = await runMockPlaybook(
    '- hosts: all\n  gather_facts: false\n  serial: [1, "50%"]\n  tasks:\n    - { name: a, debug: msg=a }\n    - { name: b, debug: msg=b }\n',
    'h1\nh2\nh3\nh4\n',
  );
  // a result line names its task only: hosts of one task report in the order they finish
  const seen = m.events.flatMap((e) =>
    e.type === 'batch_start'
      ? [`batch ${e.index}/${e.total} ${e.hosts.join(',')}`]
      : e.type === 'host_result'
        ? [e.task]
        : [],
  );
  assert.deepEqual(seen, ['batch 1/3 h1', 'a', 'b', 'batch 2/3 h2,h3', 'a', 'a', 'b', 'b', 'batch 3/3 h4', 'a', 'b']);
});

test('play max_fail_percentage: a batch over the limit stops the play (later batches never start)', async () => {
  const m = await runMockPlaybook(
    `- hosts: all
  gather_facts: false
  serial: 2
  max_fail_percentage: 40
  tasks:
    - { name: maybe fail, fail: msg=no, when: inventory_hostname == 'h1' }
    - { name: after, debug: msg=ok }
`,
    'h1\nh2\nh3\nh4\n',
  );
  assert.deepEqual(resultLines(m.events), ['h1 maybe fail failed', 'h2 maybe fail skipped', 'h2 after ok']);
  assert.ok(m.events.some((e) => e.type === 'warning' && /max_fail_percentage 40% exceeded \(1 of 2/.test(e.msg)));
});

test('play strategy: free runs as linear with a warning; an unknown strategy fails the play when it starts', async () => {
  const free = await runMockPlaybook('- hosts: all\n  gather_facts: false\n  strategy: free\n  tasks: []\n');
  assert.ok(free.events.some((e) => e.type === 'warning' && /strategy 'free' runs as 'linear'/.test(e.msg)));
  await assert.rejects(
    runMockPlaybook('- hosts: all\n  gather_facts: false\n  strategy: fastest\n  tasks: []\n'),
    /Invalid play strategy specified: fastest/,
  );
});
