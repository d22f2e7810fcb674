import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  batchScript,
  groupByBecome,
  MAX_WINDOW,
  parseBatch,
  PrefetchCache,
  prefetchWindow,
  settleAfterTask,
  windowRole,
} from '../../src/executor/prefetch.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { Item, Task } from '../../src/playbook/model.js';
import { writePlaybook } from '../helpers/lab.js';
import { Secrets } from '../../src/core/secrets.js';

test('prefetch: one script runs every query and returns each rc/stdout/stderr byte for byte', () => {
  const queries = [
    { command: 'printf "a\\nb"', opts: {} },
    { command: 'echo err >&2; exit 3', opts: {} },
    { command: 'printf "ünï \\0 bin"', opts: {} },
    { command: 'pwd', opts: { cwd: '/tmp' } },
    { command: 'echo "$X"', opts: { env: { X: "it's" } } },
    { command: 'cat', opts: {} }, // stdin is closed: never waits
  ];
  const r = spawnSync('sh', ['-c', batchScript(queries)], { encoding: 'utf8', timeout: 10_000 });
  const a = parseBatch(r.stdout);
  assert.deepEqual(a.get(0), { rc: 0, stdout: 'a\nb', stderr: '' });
  assert.deepEqual(a.get(1), { rc: 3, stdout: '', stderr: 'err\n' });
  assert.equal(a.get(2)?.stdout, 'ünï \0 bin');
  assert.equal(a.get(3)?.stdout, '/tmp\n');
  assert.equal(a.get(4)?.stdout, "it's\n");
  assert.deepEqual(a.get(5), { rc: 0, stdout: '', stderr: '' });
});

test('prefetch cache: a result is used once, for the same command and options only; a command sent drops all', () => {
  const c = new PrefetchCache();
  const q = { command: 'stat x', opts: { become: { user: 'root' }, env: {} } };
  c.store(q, { rc: 0, stdout: 'one', stderr: '' });
  c.store(q, { rc: 0, stdout: 'two', stderr: '' });
  assert.equal(c.take('stat x', { become: { user: 'postgres' }, env: {} }), undefined, 'another sudo user');
  assert.equal(c.take('stat x', { become: { user: 'root' }, env: { A: '1' } }), undefined, 'another environment');
  assert.equal(c.take('stat x', { become: { user: 'root' }, env: {} })?.stdout, 'one');
  c.cover([1, 2]);
  assert.ok(c.covers(2));
  c.sent();
  assert.equal(c.take('stat x', { become: { user: 'root' }, env: {} }), undefined, 'stale after a command was sent');
  assert.ok(!c.covers(2));
  assert.ok(c.touched, 'the task changed this host');
  assert.equal(c.size, 2, 'one result served, one thrown away unused: the next window reaches two tasks');
  c.store({ command: 'psql', opts: { stdin: 'SELECT 1' } }, { rc: 0, stdout: '1', stderr: '' });
  assert.equal(c.take('psql', { stdin: 'SELECT 2' }), undefined, 'a query with input is kept for that input only');
  assert.equal(c.take('psql', { stdin: 'SELECT 1' })?.stdout, '1');
});

test('prefetch cache: a host that keeps changing gets short windows; a snapshot used up brings the longest back', () => {
  const c = new PrefetchCache();
  const fill = (n: number) => {
    c.cover([]);
    for (let i = 0; i < n; i++) c.store({ command: `q${i}`, opts: {} }, { rc: 0, stdout: '', stderr: '' });
  };
  fill(40);
  for (const i of [0, 1, 2]) c.take(`q${i}`, {});
  c.sent();
  assert.equal(c.size, 6, 'three served before the host changed: twice that next');
  fill(6);
  c.take('q0', {});
  c.drop();
  assert.equal(c.size, 2, 'never below two (one query alone saves no round trip)');
  fill(2);
  c.take('q0', {});
  c.take('q1', {});
  fill(2);
  assert.equal(c.size, MAX_WINDOW, 'everything fetched was served: fetch as far ahead as allowed again');
  c.take('q0', {});
  c.take('q1', {});
  c.drop();
  assert.equal(c.size, MAX_WINDOW, 'a drop with nothing left unused (a window ending at a pause) keeps it');
});

/** The tasks of a one-play playbook, in order. */
function tasksOf(yaml: string): Item[] {
  const play = loadPlaybook(writePlaybook(`- hosts: all\n  tasks:\n${yaml}`), { secrets: new Secrets() }).plays[0];
  return play?.sections.flat() ?? [];
}

const named = (items: Item[]) => items.map((t) => t.name);
const all = () => true;

test('prefetch window: plain queries of the host and controller-only tasks that touch nothing are kept together', () => {
  const items = tasksOf(`    - { name: a, stat: path=/a }
    - { name: b, lineinfile: path=/b line=x }
    - { name: c, set_fact: { x: 1 } }
    - { name: d, debug: msg=hi }
    - { name: e, assert: { that: x == 1 } }
    - { name: f, copy: { dest: /f, content: x }, loop: [1, 2] }
    - { name: g, command: touch /g creates=/g }
    - { name: h, slurp: src=/h }
`);
  assert.deepEqual(named(prefetchWindow(items, 0, all, 40)), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  assert.deepEqual(named(prefetchWindow(items, 0, all, 3)), ['a', 'b', 'c'], 'at most max tasks');
  assert.deepEqual(
    named(prefetchWindow(items, 0, (t) => t.name !== 'b', 40)),
    ['a', 'c', 'd', 'e', 'f', 'g', 'h'],
    'a task not selected by tags never runs: skipped over',
  );
});

test('prefetch window: reaches past a task that may change a host orch does not see (it adds no query), stops at meta', () => {
  const breakers = [
    'delegate_to localhost: { shell: "ssh h touch /x", delegate_to: localhost }',
    'local_action: { local_action: command touch /x }',
    'delegated to another host: { file: path=/x state=touch, delegate_to: "{{ peer }}" }',
    'run_once: { stat: path=/x, run_once: true }',
    'until: { stat: path=/x, register: r, until: r.stat.exists }',
    'loop with a pause: { stat: "path={{ item }}", loop: [a, b], loop_control: { pause: 2 } }',
    'pause: { pause: seconds=1 }',
    'wait_for: { wait_for: path=/x }',
    'uri: { uri: url=http://x }',
    'connection_check: { connection_check: {} }',
  ];
  for (const b of breakers) {
    const [what, task] = b.split(/: (.*)/s) as [string, string];
    const items = tasksOf(
      `    - { name: a, stat: path=/a }\n    - ${task.replace(/^\{ /, '{ name: brk, ')}\n    - { name: c, stat: path=/c }\n`,
    );
    assert.equal(windowRole(items[1] as Task), 'break', what);
    assert.deepEqual(named(prefetchWindow(items, 0, all, 40)), ['a', 'brk', 'c'], what);
  }
  const items = tasksOf(
    '    - { name: a, stat: path=/a }\n    - { name: m, meta: end_play }\n    - { name: c, stat: path=/c }\n',
  );
  assert.deepEqual(
    named(prefetchWindow(items, 0, all, 40)),
    ['a'],
    'meta (end_play, end_host, clear_facts...) ends it',
  );
  assert.deepEqual(named(prefetchWindow(items, 1, all, 40)), [], 'no window starts at meta');
  const flush = tasksOf(
    '    - { name: a, stat: path=/a }\n    - { name: f, meta: flush_handlers }\n    - { name: n, meta: noop }\n    - { name: c, stat: path=/c }\n',
  );
  assert.deepEqual(
    named(prefetchWindow(flush, 0, all, 40)),
    ['a', 'f', 'n', 'c'],
    'flush_handlers and noop change nothing themselves (a handler that runs settles as a task)',
  );
});

test('prefetch window: stops at a block and at an include chosen at run time', () => {
  const items = tasksOf(`    - { name: a, stat: path=/a }
    - block: [{ name: in, stat: path=/b }]
    - { name: c, stat: path=/c }
    - { name: inc, include_tasks: "{{ f }}.yml" }
    - { name: d, stat: path=/d }
`);
  assert.deepEqual(named(prefetchWindow(items, 0, all, 40)), ['a']);
  assert.deepEqual(named(prefetchWindow(items, 2, all, 40)), ['c']);
});

test("prefetch settle: a task that is not a plain query and ran somewhere, or a command sent to any host, drops every host's snapshot", () => {
  const [query, pause] = tasksOf('    - { name: q, stat: path=/a }\n    - { name: p, pause: seconds=1 }\n') as [
    Task,
    Task,
  ];
  const fresh = () => {
    const c = new PrefetchCache();
    c.store({ command: 'q', opts: {} }, { rc: 0, stdout: '', stderr: '' });
    return c;
  };
  let hosts = [fresh(), fresh()];
  settleAfterTask(hosts, query);
  assert.ok(
    hosts.every((c) => c.take('q', {}) !== undefined),
    'a plain query answered from snapshots keeps them',
  );

  hosts = [fresh(), fresh()];
  settleAfterTask(hosts, pause);
  assert.ok(
    hosts.every((c) => c.take('q', {}) === undefined),
    'pause: every snapshot dropped',
  );

  hosts = [fresh(), fresh()];
  settleAfterTask(hosts, pause, false);
  assert.ok(
    hosts.every((c) => c.take('q', {}) !== undefined),
    'a pause skipped on every host did nothing: snapshots kept',
  );

  hosts = [fresh(), fresh()];
  (hosts[0] as PrefetchCache).sent();
  settleAfterTask(hosts, query);
  assert.equal(
    (hosts[1] as PrefetchCache).take('q', {}),
    undefined,
    'another host ran a command: this one is dropped too',
  );
  assert.ok(
    hosts.every((c) => !c.touched),
    'the next task starts clean',
  );
});

test('prefetch: queries are grouped by sudo user', () => {
  const g = groupByBecome([
    { command: 'a', opts: { become: { user: 'root' } } },
    { command: 'b', opts: {} },
    { command: 'c', opts: { become: { user: 'root' } } },
  ]);
  assert.deepEqual(
    g.map((x) => x.queries.map((q) => q.command)),
    [['a', 'c'], ['b']],
  );
});

test("prefetch settle: a write of a module that only writes its own host keeps the other hosts' snapshots", () => {
  const [copy, shell] = tasksOf(
    '    - { name: c, copy: { dest: /x, content: x } }\n    - { name: s, shell: touch /x }\n',
  ) as [Task, Task];
  const pair = (): [PrefetchCache, PrefetchCache] => {
    const [a, b] = [new PrefetchCache(), new PrefetchCache()];
    b.store({ command: 'q', opts: {} }, { rc: 0, stdout: '', stderr: '' });
    a.sent();
    return [a, b];
  };
  const written = pair();
  settleAfterTask(written, copy);
  assert.ok(written[1].take('q', {}), "copy wrote host a only: host b's snapshot stays");
  const shelled = pair();
  settleAfterTask(shelled, shell);
  assert.equal(shelled[1].take('q', {}), undefined, 'a shell command may reach any host: every snapshot goes');
});
