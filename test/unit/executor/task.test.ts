import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectError } from '../../../src/core/errors.js';
import type { RunEvent } from '../../../src/core/events.js';
import { resultLines, runMockPlaybook, type Answer } from '../../helpers/mock-transport.js';

const play = (tasks: string, hosts = 'h1') => `- hosts: ${hosts}\n  gather_facts: false\n  tasks:\n${tasks}`;
const results = (events: RunEvent[]) =>
  events.filter((e): e is Extract<RunEvent, { type: 'host_result' }> => e.type === 'host_result');
/** MOCK answers: a command containing `rcN` exits N and prints `out` */
const byRc: Answer = (_h, command) => {
  const rc = /rc(\d+)/.exec(command);
  return rc ? { rc: Number(rc[1]), stdout: 'out' } : undefined;
};

test('task: register keeps the result for later tasks; changed_when and failed_when judge it', async () => {
  const m = await runMockPlaybook(
    play(`    - { name: c, command: "echo rc0", register: r, changed_when: false }
    - { name: f, command: "echo rc0", failed_when: "r.stdout == 'out'" }
    - { name: after, debug: msg=x }
`),
    'h1\n',
    { answer: byRc },
  );
  assert.deepEqual(resultLines(m.events), ['h1 c ok', 'h1 f failed']);
  assert.equal((m.rs.hosts.get('h1')?.runtime.r as { stdout?: string }).stdout, 'out');
});

test('task: a non-zero exit fails the task; ignore_errors makes it an ignored failure counted ok and ignored', async () => {
  const m = await runMockPlaybook(
    play(`    - { name: bad, command: "echo rc2", ignore_errors: true }
    - { name: after, debug: msg=x }
`),
    'h1\n',
    { answer: byRc },
  );
  const [bad] = results(m.events);
  assert.deepEqual([bad?.status, bad?.ignored, bad?.rc], ['failed', true, 2]);
  assert.deepEqual(resultLines(m.events), ['h1 bad failed', 'h1 after ok'], 'the host goes on');
  const st = m.rs.hosts.get('h1')?.stats;
  assert.deepEqual([st?.failed, st?.ignored, st?.ok, st?.changed], [0, 1, 2, 1]);
});

test('task: until retries (retry events) until the condition holds; attempts is in the result', async () => {
  let calls = 0;
  const m = await runMockPlaybook(
    play('    - { name: poll, command: "echo try", register: r, until: "r.stdout == \'3\'", retries: 5, delay: 0 }\n'),
    'h1\n',
    { answer: (_h, c) => (c.includes('try') ? { stdout: String(++calls) } : undefined) },
  );
  assert.equal(m.events.filter((e) => e.type === 'retry').length, 2);
  assert.equal((m.rs.hosts.get('h1')?.runtime.r as { attempts?: number }).attempts, 3);
  assert.deepEqual(resultLines(m.events), ['h1 poll changed']);
});

test('task: until that never holds fails after retries+1 runs (attempts counts the retries), saying so when the module said nothing', async () => {
  let calls = 0;
  const m = await runMockPlaybook(
    play('    - { name: poll, command: "echo try", register: r, until: false, retries: 2, delay: 0 }\n'),
    'h1\n',
    { answer: (_h, c) => (c.includes('try') ? (calls++, undefined) : undefined) },
  );
  assert.equal(calls, 3);
  assert.deepEqual(resultLines(m.events), ['h1 poll failed']);
  assert.equal((m.rs.hosts.get('h1')?.runtime.r as { attempts?: number }).attempts, 2);
  // a module result without a message of its own gets one (command's empty msg stays, as in Ansible)
  const quiet = await runMockPlaybook(
    play('    - { name: poll, set_fact: { x: 1 }, until: false, retries: 1, delay: 0 }\n'),
  );
  assert.equal(results(quiet.events)[0]?.msg, 'Retried until the condition was met, but it never was');
});

test('task: a loop reports each item, registers results[] and the aggregate message; an empty loop is skipped', async () => {
  const m = await runMockPlaybook(
    play(`    - { name: l, debug: "msg={{ item }}", loop: [a, b], register: r }
    - { name: empty, debug: msg=x, loop: [] }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h1 l ok', 'h1 l ok', 'h1 empty skipped']);
  const r = m.rs.hosts.get('h1')?.runtime.r as { msg?: string; results?: unknown[]; skipped?: boolean };
  assert.deepEqual([r.msg, r.results?.length, r.skipped], ['All items completed', 2, false]);
});

test('task: a loop over an undefined variable is skipped when the condition is false, an error when it holds', async () => {
  const m = await runMockPlaybook(
    play(`    - { name: guarded, debug: msg=x, loop: "{{ nope }}", when: false }
    - { name: open, debug: msg=x, loop: "{{ nope }}", ignore_errors: true }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h1 guarded skipped', 'h1 open failed']);
});

test('task: a change notifies its handlers; no change, or a failure, does not', async () => {
  const m = await runMockPlaybook(
    play(`    - { name: a, command: "echo rc0", notify: h1 }
    - { name: b, command: "echo rc0", changed_when: false, notify: h2 }
    - { name: c, command: "echo rc1", notify: h3, ignore_errors: true }
`) +
      '  handlers:\n    - { name: h1, debug: msg=1 }\n    - { name: h2, debug: msg=2 }\n    - { name: h3, debug: msg=3 }\n',
    'h1\n',
    { answer: byRc },
  );
  assert.deepEqual(
    resultLines(m.events).filter((l) => / h\d ok$/.test(l)),
    ['h1 h1 ok'],
  );
});

test('task: a command that hits the task timeout fails with Ansible\'s "failed to execute in the expected time frame"', async () => {
  const m = await runMockPlaybook(play('    - { name: slow, command: "sleep 9", timeout: 2 }\n'), 'h1\n', {
    answer: (_h, c) => (c.includes('sleep') ? { rc: 124 } : undefined),
  });
  const [r] = results(m.events);
  assert.equal(r?.status, 'failed');
  assert.equal(r?.msg, 'The command action failed to execute in the expected time frame (2) and was terminated');
});

test('task: a lost connection is unreachable; ignore_unreachable lets the host go on', async () => {
  const lost: Answer = (_h, c) => {
    if (c.includes('lost')) throw new ConnectError('h1', 'connection reset');
    return undefined;
  };
  const m = await runMockPlaybook(
    play('    - { name: t, command: "echo lost" }\n    - { name: after, debug: msg=x }\n'),
    'h1\n',
    { answer: lost },
  );
  assert.deepEqual(resultLines(m.events), ['h1 t unreachable']);
  const kept = await runMockPlaybook(
    play('    - { name: t, command: "echo lost", ignore_unreachable: true }\n    - { name: after, debug: msg=x }\n'),
    'h1\n',
    { answer: lost },
  );
  assert.deepEqual(resultLines(kept.events), ['h1 t unreachable', 'h1 after ok']);
});

test('play: run_once runs on the first host and registers its result on every host', async () => {
  const m = await runMockPlaybook(
    play(
      `    - { name: once, command: "echo rc0", run_once: true, register: r }
    - { name: seen, assert: { that: "r.stdout == 'out'" } }
`,
      'all',
    ),
    'h1\nh2\n',
    { answer: byRc },
  );
  assert.deepEqual(resultLines(m.events), ['h1 once changed', 'h1 seen ok', 'h2 seen ok']);
});

test('play: any_errors_fatal stops every host of the batch when one fails', async () => {
  const m = await runMockPlaybook(
    play(
      `    - { name: boom, fail: msg=no, when: "inventory_hostname == 'h1'", any_errors_fatal: true }
    - { name: after, debug: msg=x }
`,
      'all',
    ),
    'h1\nh2\n',
  );
  assert.deepEqual(resultLines(m.events), ['h1 boom failed', 'h2 boom skipped']);
  assert.ok(m.events.some((e) => e.type === 'warning' && /any_errors_fatal: 'boom' failed on h1/.test(e.msg)));
});

test('play: --tags runs only the tasks tagged so (and `always`); --skip-tags leaves tagged tasks out', async () => {
  const yaml = play(`    - { name: a, debug: msg=a, tags: [web] }
    - { name: b, debug: msg=b, tags: [db] }
    - { name: c, debug: msg=c, tags: [always] }
`);
  const tagged = await runMockPlaybook(yaml, 'h1\n', { run: { tags: ['web'] } });
  assert.deepEqual(resultLines(tagged.events), ['h1 a ok', 'h1 c ok']);
  const skipped = await runMockPlaybook(yaml, 'h1\n', { run: { skipTags: ['web'] } });
  assert.deepEqual(resultLines(skipped.events), ['h1 b ok', 'h1 c ok']);
});

test('play: throttle must be a whole number', async () => {
  await assert.rejects(
    runMockPlaybook(
      play('    - { name: t, debug: msg=x, throttle: "{{ n }}" }\n').replace('tasks:', 'vars: { n: 1.5 }\n  tasks:'),
    ),
    /throttle: expected a whole number/,
  );
});
