import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectError } from '../../../src/core/errors.js';
import { resultLines, runMockPlaybook } from '../../helpers/mock-transport.js';

const play = (tasks: string, keywords = '') => `- hosts: all\n  gather_facts: false\n${keywords}  tasks:\n${tasks}`;
const FAIL_ON_H1 = `{ name: boom, fail: msg=no, when: "inventory_hostname == 'h1'" }`;

/** A block whose first task fails on h1 (then `rest`, in the block), these rescue/always sections, a task after. */
const failingBlock = (sections: string, rest = '') =>
  runMockPlaybook(
    play(`    - block:\n        - ${FAIL_ON_H1}\n${rest}${sections}    - { name: after, debug: msg=a }\n`),
  );

test('block: rescue runs on the hosts that failed in the block only; they go on after it, counted rescued, not failed', async () => {
  const m = await failingBlock(
    '      rescue:\n        - { name: fix, debug: msg=fix }\n',
    '        - { name: rest of block, debug: msg=x }\n',
  );
  assert.deepEqual(resultLines(m.events), [
    'h1 boom failed',
    'h2 boom skipped',
    'h2 rest of block ok',
    'h1 fix ok',
    'h1 after ok',
    'h2 after ok',
  ]);
  const st = m.rs.hosts.get('h1')?.stats;
  assert.deepEqual([st?.failed, st?.rescued], [0, 1]);
});

test('block: always runs on every host, failed or not; a failure without rescue stays a failure after it', async () => {
  const m = await failingBlock('      always:\n        - { name: cleanup, debug: msg=c }\n');
  assert.deepEqual(resultLines(m.events), [
    'h1 boom failed',
    'h2 boom skipped',
    'h1 cleanup ok',
    'h2 cleanup ok',
    'h2 after ok',
  ]);
  assert.equal(m.rs.hosts.get('h1')?.stats.failed, 1);
});

test('block: a failure inside rescue leaves the host failed; always still runs on it', async () => {
  const m = await failingBlock(`      rescue:
        - { name: rescue fails, fail: msg=again }
      always:
        - { name: cleanup, debug: msg=c }
`);
  assert.deepEqual(resultLines(m.events), [
    'h1 boom failed',
    'h2 boom skipped',
    'h1 rescue fails failed',
    'h1 cleanup ok',
    'h2 cleanup ok',
    'h2 after ok',
  ]);
  const st = m.rs.hosts.get('h1')?.stats;
  assert.deepEqual([st?.failed, st?.rescued], [1, 1], 'the block failure was rescued, the rescue failure was not');
});

test('block: an unreachable host is neither rescued nor given always', async () => {
  const m = await runMockPlaybook(
    play(`    - block:
        - { name: reach, command: "true" }
      rescue:
        - { name: fix, debug: msg=fix }
      always:
        - { name: cleanup, debug: msg=c }
`),
    'h1\nh2\n',
    {
      answer: (host) => {
        if (host === 'h1') throw new ConnectError('h1', 'connection refused');
        return undefined;
      },
    },
  );
  assert.deepEqual(resultLines(m.events), ['h1 reach unreachable', 'h2 reach changed', 'h2 cleanup ok']);
});

test('block serial (orch): the block runs on one batch of hosts at a time, the tasks around it on all at once', async () => {
  const m = await runMockPlaybook(
    play(`    - { name: before, debug: msg=b }
    - block:
        - { name: one, debug: msg=1 }
        - { name: two, debug: msg=2 }
      serial: 1
      name: rolling
    - { name: after, debug: msg=a }
`),
  );
  const seen = m.events.flatMap((e) =>
    e.type === 'batch_start'
      ? [`batch ${e.index}/${e.total} ${e.block ?? ''} ${e.hosts.join(',')}`]
      : e.type === 'task_start'
        ? [`${e.name} ${e.hosts.join(',')}`]
        : [],
  );
  assert.deepEqual(seen, [
    'before h1,h2',
    'batch 1/2 rolling h1',
    'one h1',
    'two h1',
    'batch 2/2 rolling h2',
    'one h2',
    'two h2',
    'after h1,h2',
  ]);
});

test('block serial with max_fail_percentage: a batch over it stops the play', async () => {
  const m = await runMockPlaybook(
    play(`    - block:
        - ${FAIL_ON_H1}
      serial: 1
      max_fail_percentage: 0
      name: rolling
    - { name: after, debug: msg=a }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h1 boom failed']);
  assert.ok(
    m.events.some((e) => e.type === 'warning' && /block 'rolling': max_fail_percentage 0% exceeded/.test(e.msg)),
  );
});
