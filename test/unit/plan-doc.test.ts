import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunEvent } from '../../src/core/events.js';
import { PlanCollector, pending, planText, summaryLine } from '../../src/ui/plan.js';

function collect(events: RunEvent[]) {
  const c = new PlanCollector();
  for (const e of events) c.emit(e);
  return c.document();
}

const base = { type: 'host_result' as const, taskId: 1, task: 't', module: 'copy', durationMs: 1 };

test('plan document: statuses from results (a check-mode skip with an unknown mark is unknown), hosts in inventory order, summary line', () => {
  const doc = collect([
    {
      type: 'run_start',
      time: '',
      command: 'plan x',
      inventory: 'x',
      playbook: 'p',
      hosts: ['web1', 'web2', 'db1'],
      check: true,
      user: 'u',
    },
    {
      type: 'task_start',
      taskId: 1,
      name: 't',
      hosts: ['web2', 'web1'],
      handler: false,
      module: 'copy',
      file: '/p/site.yml',
      line: 4,
    },
    { ...base, host: 'web2', status: 'changed', diff: [{ path: '/etc/a', before: 'a\n', after: 'b\n' }] },
    { ...base, host: 'web1', status: 'ok' },
    { ...base, host: 'web1', status: 'skipped', plan: { status: 'unknown', reason: "depends on 'x' (/p/site.yml:2)" } },
    {
      ...base,
      host: 'web1',
      status: 'skipped',
      module: 'command',
      plan: { status: 'change', reason: 'the command would run' },
    },
    { ...base, host: 'web1', status: 'skipped' },
    { ...base, host: 'web1', status: 'failed', msg: 'boom', ignored: true },
  ]);
  assert.deepEqual(
    doc.hosts.map((h) => h.host),
    ['web1', 'web2'],
  );
  assert.deepEqual(
    doc.hosts[0]?.tasks.map((t) => t.status),
    ['unchanged', 'unknown', 'change', 'skip', 'unchanged'],
  );
  assert.equal(doc.hosts[0]?.tasks[1]?.reason, "depends on 'x' (/p/site.yml:2)");
  assert.equal(doc.hosts[1]?.tasks[0]?.at, '/p/site.yml:4');
  assert.equal(summaryLine(doc), '2 hosts: 2 to change, 1 unknown, 2 unchanged, 1 skipped');
  assert.ok(pending(doc));
  const text = planText(doc);
  assert.match(text, /^web2: 1 to change, 0 unknown, 0 unchanged$/m);
  assert.match(text, /^ {2}\? unknown: t \[\/p\/site\.yml:4\]: depends on 'x'/m);
  assert.match(text, /^ {6}-a\n {6}\+b$/m);
});

test('plan document: only unknowns still mean changes pending; nothing but unchanged and skips means none', () => {
  const onlyUnknown = collect([{ ...base, host: 'h', status: 'skipped', plan: { status: 'unknown', reason: 'r' } }]);
  assert.ok(pending(onlyUnknown), 'never "nothing to do" when something is unknown');
  const clean = collect([
    { ...base, host: 'h', status: 'ok' },
    { ...base, host: 'h', status: 'skipped' },
  ]);
  assert.ok(!pending(clean));
  assert.equal(summaryLine(clean), '1 host: 0 to change, 0 unknown, 1 unchanged, 1 skipped');
});
