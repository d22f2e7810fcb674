import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunEvent } from '../../../src/core/events.js';
import type { FileDiff, ModuleResult } from '../../../src/core/result.js';
import type { RunOptions } from '../../../src/executor/state.js';
import {
  conditionText,
  displayName,
  messageOf,
  NO_LOG_MSG,
  report,
  withFailedKey,
} from '../../../src/executor/task-report.js';
import { mockRunState, runMockPlaybook } from '../../helpers/mock-transport.js';
import { scopeOf, taskOf } from '../../helpers/playbook.js';

type HostResult = Extract<RunEvent, { type: 'host_result' }>;

/** The host_result event report() emits for this result of a `command` task (named "t") on h1. */
function reported(
  r: ModuleResult,
  o: { noLog?: boolean; item?: string; task?: string; opts?: Partial<RunOptions>; vars?: Record<string, unknown> } = {},
): HostResult {
  const m = mockRunState('h1\n', o.opts);
  const task = taskOf(o.task ?? '{ name: t, command: id }');
  report(m.rs, task, 'h1', r, Date.now(), o.noLog ?? false, o.item, undefined, o.vars ? scopeOf(o.vars) : undefined);
  const e = m.events[0];
  assert.ok(e?.type === 'host_result' && m.events.length === 1);
  return e;
}

test('report: status from the result (unreachable > failed > skipped > changed > ok), with rc, stdout, stderr and msg', () => {
  assert.equal(reported({ changed: true, unreachable: true, failed: true }).status, 'unreachable');
  assert.equal(reported({ changed: true, failed: true }).status, 'failed');
  assert.equal(reported({ changed: false, skipped: true }).status, 'skipped');
  assert.equal(reported({ changed: true }).status, 'changed');
  const e = reported({ changed: false, rc: 3, stdout: 'o', stderr: 'e', msg: 'non-zero return code' });
  assert.deepEqual(
    [e.status, e.rc, e.stdout, e.stderr, e.msg, e.task, e.module],
    ['ok', 3, 'o', 'e', 'non-zero return code', 't', 'command'],
  );
});

test('report: a failure says where the task is (file:line) and, for an assert, the condition that failed', () => {
  const e = reported({ changed: false, failed: true, msg: 'Assertion failed', assertion: 'x == 1' });
  assert.match(e.at ?? '', /playbook\.yml:\d+$/);
  assert.equal(e.hint, 'the condition that failed: x == 1');
  assert.equal(reported({ changed: false }).at, undefined, 'no position on success');
  assert.equal(reported({ changed: false, failed: true, hint: 'mine' }).hint, 'mine', "the module's own hint first");
});

test('report: an ignored failure is failed with ignored: true', () => {
  assert.equal(reported({ changed: false, failed: true, _ignored: true }).ignored, true);
  assert.equal(reported({ changed: false, _ignored: true }).ignored, undefined, 'only a failure is ignored');
});

test('report: no_log hides item, output, diff and hint; a failure shows only Ansible\'s "hidden" message', () => {
  const r: ModuleResult = { changed: true, failed: true, msg: 'secret', stdout: 's', stderr: 's', hint: 'h' };
  const e = reported(r, { noLog: true, item: 'pw', opts: { diff: true } });
  assert.deepEqual(
    [e.item, e.msg, e.stdout, e.stderr, e.hint, e.diff],
    ['(censored)', NO_LOG_MSG, undefined, undefined, undefined, undefined],
  );
  assert.equal(
    reported({ changed: true, msg: 'secret' }, { noLog: true }).msg,
    undefined,
    'no message when it did not fail',
  );
});

test("report: the diff only with --diff or the task's diff: true", () => {
  const diff = [{ path: '/x', before: 'a', after: 'b' }];
  assert.equal(reported({ changed: true, diff }).diff, undefined);
  assert.deepEqual(reported({ changed: true, diff }, { opts: { diff: true } }).diff, diff);
  assert.deepEqual(reported({ changed: true, diff }, { task: '{ name: t, command: id, diff: true }' }).diff, diff);
});

test('report: the task name is shown with its variables filled in when the scope is given', () => {
  assert.equal(
    reported({ changed: false }, { task: '{ name: "install {{ p }}", command: id }', vars: { p: 'nginx' } }).task,
    'install nginx',
  );
});

test('displayName: a name that cannot be rendered (undefined variable) is shown as written', () => {
  assert.equal(displayName('copy {{ nope }}', scopeOf()), 'copy {{ nope }}');
  assert.equal(displayName('plain', scopeOf()), 'plain');
});

test('messageOf: a non-empty msg; a structured msg in Python repr', () => {
  assert.equal(messageOf({ changed: false, msg: '' }), undefined);
  assert.equal(messageOf({ changed: false }), undefined);
  assert.equal(messageOf({ changed: false, msg: ['a', 1] }), "['a', 1]");
});

test('withFailedKey: a module result gets failed: false (not a skip), and its diffs get before/after headers', () => {
  assert.deepEqual(withFailedKey({ changed: true }), { changed: true, failed: false });
  assert.deepEqual(withFailedKey({ changed: false, skipped: true }), { changed: false, skipped: true });
  assert.equal(withFailedKey({ changed: false, failed: true }).failed, true);
  const d = withFailedKey({ changed: true, diff: [{ path: '/x', before: 'a', after: 'b' }] }).diff as FileDiff[];
  assert.ok(d[0]?.before_header !== undefined && d[0].after_header !== undefined);
});

test('conditionText: a list of conditions reads as one "and" expression', () => {
  assert.equal(conditionText(['a', 'b == 1']), 'a and b == 1');
  assert.equal(conditionText('x'), 'x');
});

test('a looped no_log task on a host: each item label is censored and no message shown', async () => {
  const m = await runMockPlaybook(
    '- hosts: h1\n  gather_facts: false\n  tasks:\n    - { debug: msg=hi, loop: [pw1, pw2], no_log: true }\n',
  );
  const items = m.events.flatMap((e) => (e.type === 'host_result' ? [`${e.item ?? '-'} ${e.msg ?? '-'}`] : []));
  assert.deepEqual(items, ['(censored) -', '(censored) -']);
});
