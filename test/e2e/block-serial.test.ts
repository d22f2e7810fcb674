import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apply, HOSTS, onHost, writePlaybook } from '../helpers/lab.js';

// orch's per-block serial (Ansible has serial only on plays): a block, or an included task file, with
// `serial:` runs on one batch of hosts at a time while the tasks around it keep their parallelism. The hosts
// record when they enter and leave the block (one clock: lab hosts share the machine's kernel).
const hosts = HOSTS.slice(0, 4);
const ALL = hosts.join(',');

/** [enter, leave] in ms of each host's stay inside the block named by `tag`. */
function stays(tag: string): [number, number][] {
  return hosts.map((h) => {
    const [enter, leave] = onHost(h, `cat /tmp/orch-serial-${tag}-in /tmp/orch-serial-${tag}-out`)
      .stdout.trim()
      .split('\n')
      .map((ns) => Number(ns) / 1e6);
    return [enter as number, leave as number];
  });
}

/** The most stays that overlap at one moment. */
function mostAtOnce(intervals: [number, number][]): number {
  return Math.max(...intervals.map(([at]) => intervals.filter(([a, b]) => a <= at && at < b).length));
}

const mark = (tag: string) => `
        - shell: date +%s%N > /tmp/orch-serial-${tag}-in; sleep 0.4
        - shell: date +%s%N > /tmp/orch-serial-${tag}-out`;

test('block serial: serial 1 lets one host at a time into the block, serial 2 two (an include_tasks), the rest in parallel', () => {
  for (const h of hosts) onHost(h, 'rm -f /tmp/orch-serial-*');
  const pb = writePlaybook(
    `- hosts: ${ALL}
  gather_facts: no
  tasks:
    - shell: date +%s%N > /tmp/orch-serial-all-in; sleep 0.8; date +%s%N > /tmp/orch-serial-all-out
    - name: one at a time
      serial: 1
      block:${mark('one')}
    - name: two at a time
      include_tasks: window.yml
      serial: 2
`,
    { 'window.yml': mark('two').replace(/^ {8}/gm, '') },
  );
  const r = apply(pb);
  assert.equal(r.code, 0, r.stdout.slice(-2000));
  assert.equal(mostAtOnce(stays('all')), hosts.length, 'the task before the block ran on every host at once');
  assert.equal(mostAtOnce(stays('one')), 1, 'serial 1: never two hosts inside the block');
  assert.equal(mostAtOnce(stays('two')), 2, 'serial 2: two hosts inside together, never three');
  const batchEvents = r.events.filter((e) => e.type === 'batch_start');
  assert.equal(batchEvents.length, hosts.length + Math.ceil(hosts.length / 2));
});

test('block serial: max_fail_percentage 0 stops the play after the first failing batch; later batches never enter', () => {
  for (const h of hosts) onHost(h, 'rm -f /tmp/orch-serial-*');
  const pb = writePlaybook(`- hosts: ${ALL}
  gather_facts: no
  tasks:
    - name: rolling
      serial: 1
      max_fail_percentage: 0
      block:
        - fail: msg=broken
          when: inventory_hostname == '${hosts[0]}'
        - shell: touch /tmp/orch-serial-entered
    - shell: touch /tmp/orch-serial-after
`);
  const r = apply(pb);
  assert.equal(r.code, 2);
  const entered = hosts.filter(
    (h) => onHost(h, 'test -e /tmp/orch-serial-entered && echo y || echo n').stdout.trim() === 'y',
  );
  assert.deepEqual(entered, [], 'the failing host stopped, no later batch entered');
  assert.ok(
    r.events.some(
      (e) =>
        e.type === 'warning' &&
        /block 'rolling': max_fail_percentage 0% exceeded \(1 of 1 hosts failed\): stopping the play/.test(e.msg),
    ),
  );
  assert.equal(onHost(hosts[1] as string, 'test -e /tmp/orch-serial-after && echo y || echo n').stdout.trim(), 'n');
});

test('block serial: a bad serial value and max_fail_percentage without serial are load errors naming the line', () => {
  const bad = apply(
    writePlaybook(`- hosts: ${ALL}\n  gather_facts: no\n  tasks:\n    - serial: lots\n      block:\n        - ping:\n`),
  );
  assert.equal(bad.code, 4);
  assert.match(bad.stderr + bad.stdout, /serial: 'lots' is not a number or a percentage.*:4/s);
  const mfp = apply(
    writePlaybook(
      `- hosts: ${ALL}\n  gather_facts: no\n  tasks:\n    - max_fail_percentage: 10\n      block:\n        - ping:\n`,
    ),
  );
  assert.equal(mfp.code, 4);
  assert.match(mfp.stderr + mfp.stdout, /max_fail_percentage on a block needs serial/);
});
