import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Secrets } from '../../src/core/secrets.js';
import { emptyStats, unhandledEvent, type RunEvent, type RunEventType } from '../../src/core/events.js';
import { lineReporter } from '../../src/ui/lines.js';
import { ndjsonWriter, Redactor } from '../../src/ui/ndjson.js';
import { initialState, reduce } from '../../src/ui/tui-state.js';

/** One event of every kind: the mapped type makes this table fail to compile when a kind is added. */
const SAMPLES: { [K in RunEventType]: Extract<RunEvent, { type: K }> } = {
  run_start: {
    type: 'run_start',
    time: '2026-01-01T00:00:00Z',
    command: 'apply',
    inventory: 'inv',
    playbook: 'site.yml',
    hosts: ['h1'],
    check: false,
    user: 'root',
  },
  play_start: { type: 'play_start', name: 'p', hosts: ['h1'] },
  batch_start: { type: 'batch_start', index: 1, total: 1, hosts: ['h1'] },
  task_start: { type: 'task_start', taskId: 1, name: 't', hosts: ['h1'], handler: false, module: 'command' },
  host_result: {
    type: 'host_result',
    host: 'h1',
    taskId: 1,
    task: 't',
    module: 'command',
    status: 'failed',
    msg: 'boom',
    stderr: 'err',
    durationMs: 3,
  },
  retry: { type: 'retry', host: 'h1', taskId: 1, task: 't', attempt: 1, retries: 3 },
  warning: { type: 'warning', msg: 'w' },
  handler_flush: { type: 'handler_flush', handlers: ['restart'] },
  interrupt: { type: 'interrupt', signal: 'SIGINT', msg: 'stopping' },
  releases: { type: 'releases', releases: { h1: '20260101' } },
  recap: { type: 'recap', stats: { h1: emptyStats() }, durationMs: 5, roundTrips: { h1: 2 } },
  run_end: { type: 'run_end', exitCode: 0, durationMs: 5 },
};

// Compile-time checks (npm run typecheck fails when one of these errors goes away).
export function forgetsAKind(e: RunEvent): string {
  switch (e.type) {
    case 'run_start':
      return 'start';
    default:
      // @ts-expect-error a switch over RunEvent that forgets kinds does not compile
      unhandledEvent(e);
      return '';
  }
}
// @ts-expect-error a map over the kinds that leaves one out does not compile
export const partial: { [K in RunEventType]: string } = { run_start: 'x' };

test('every RunEvent kind goes through the line reporter, the TUI reducer and NDJSON without throwing', () => {
  const lines: string[] = [];
  const report = lineReporter((s) => lines.push(s));
  let state = initialState('apply');
  const json: string[] = [];
  const ndjson = ndjsonWriter((s) => json.push(s));
  for (const e of Object.values(SAMPLES)) {
    report(e);
    state = reduce(state, e, 0);
    ndjson(new Redactor(new Secrets()).event(e));
  }
  assert.equal(json.length, Object.keys(SAMPLES).length);
  assert.deepEqual(
    json.map((l) => (JSON.parse(l) as { type: string }).type),
    Object.keys(SAMPLES),
  );
  assert.ok(state.done, 'run_end marks the TUI state done');
  assert.match(lines.join(''), /PLAY RECAP/);
});

test('NDJSON redaction keeps the schema fields of each kind (type, status, module) and redacts the rest', () => {
  const secrets = new Secrets();
  secrets.register('command');
  secrets.register('failed');
  const e = new Redactor(secrets).event({ ...SAMPLES.host_result, msg: 'command failed' });
  assert.equal(e.type, 'host_result');
  assert.ok(e.type === 'host_result' && e.module === 'command' && e.status === 'failed');
  assert.ok(e.type === 'host_result' && e.msg === '******** ********');
  const t = new Redactor(secrets).event(SAMPLES.task_start);
  assert.ok(t.type === 'task_start' && t.module === 'command');
});
