import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import {
  batchScript,
  groupByBecome,
  keepsSnapshots,
  MAX_WINDOW,
  parseBatch,
  PrefetchCache,
  prefetchWindow,
  settleAfterTask,
  windowRole,
  writesOwnHostOnly,
} from '../../../src/executor/prefetch.js';
import type { Item, Task } from '../../../src/playbook/model.js';
import { resultLines, runMockPlaybook, type Answer } from '../../helpers/mock-transport.js';
import { taskOf, tasksOf } from '../../helpers/playbook.js';

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

test('prefetch cache: an answer still on its way is given by takeAny (once) but not by take', async () => {
  const c = new PrefetchCache();
  let arrive: (r: { rc: number; stdout: string; stderr: string }) => void = () => undefined;
  c.store({ command: 'q', opts: {} }, new Promise((res) => (arrive = res)));
  assert.equal(c.take('q', {}), undefined, 'take answers only from what is here already');
  const waiting = c.takeAny('q', {});
  assert.ok(waiting instanceof Promise);
  arrive({ rc: 0, stdout: 'late', stderr: '' });
  assert.equal((await waiting)?.stdout, 'late');
  assert.equal(c.takeAny('q', {}), undefined, 'used once');
});

test('prefetch cache: covers() names the tasks whose queries were looked at, until the next drop', () => {
  const c = new PrefetchCache();
  c.cover([3, 4]);
  assert.deepEqual([c.covers(3), c.covers(4), c.covers(5)], [true, true, false]);
  c.drop();
  assert.equal(c.covers(3), false);
  assert.equal(c.touched, false, 'a drop is not a command sent');
});

test('prefetch: meta flush_handlers and noop keep snapshots, other meta tasks do not', () => {
  assert.equal(keepsSnapshots(taskOf('meta: flush_handlers')), true);
  assert.equal(keepsSnapshots(taskOf('meta: noop')), true);
  assert.equal(keepsSnapshots(taskOf('meta: end_host')), false);
  assert.equal(keepsSnapshots(taskOf('meta: clear_facts')), false);
});

test('prefetch: modules that only write their own host, by short or qualified name; command/shell/service are not', () => {
  for (const t of [
    'copy: { dest: /x, content: y }',
    'ansible.builtin.file: path=/x state=touch',
    'community.general.ini_file: path=/x section=s option=o value=v',
    'ansible.posix.authorized_key: user=u key=k',
  ])
    assert.equal(writesOwnHostOnly(taskOf(t)), true, t);
  for (const t of ['command: "true"', 'shell: "true"', 'service: name=x state=started', 'apt: name=x'])
    assert.equal(writesOwnHostOnly(taskOf(t)), false, t);
});

/** MOCK host answers: each query of a batch script answered rc 0 with no output (parseBatch's frames). */
const answerBatches: Answer = (_h, command) =>
  command.includes('ORCH-Q')
    ? { stdout: [...command.matchAll(/^q (\d+) /gm)].map((q) => `ORCH-Q ${q[1]} 0  `).join('\n') }
    : undefined;

const STATS = '    - stat: path=/a\n    - stat: path=/b\n    - stat: path=/c\n';
const PLAY = `- hosts: h1\n  gather_facts: false\n  tasks:\n${STATS}`;
/** the commands sent that ask about /a, /b or /c (their hex-packed path) */
const about = <T extends { command: string }>(sent: T[], path: string): T[] =>
  sent.filter((c) => c.command.includes(`pack("H*","${Buffer.from(path).toString('hex')}")`));

test('prefetch in a run: consecutive queries go to the host in one script before the first task reports; none is asked again', async () => {
  const m = await runMockPlaybook(PLAY, 'h1\n', { answer: answerBatches });
  assert.deepEqual(resultLines(m.events), ['h1 stat ok', 'h1 stat ok', 'h1 stat ok']);
  const batches = m.sent.filter((c) => c.command.includes('ORCH-Q'));
  assert.equal(batches.length, 1, 'one round trip for the three queries');
  for (const p of ['/a', '/b', '/c']) assert.deepEqual(about(m.sent, p), batches, `${p}: asked in the batch only`);
  const firstResult = m.events.findIndex((e) => e.type === 'host_result');
  assert.ok((batches[0]?.eventsBefore ?? Infinity) <= firstResult);
});

test('prefetch in a run: a host whose batch fails (sudo refused) asks each query when its task runs', async () => {
  const m = await runMockPlaybook(PLAY, 'h1\n', {
    answer: (_h, c) => (c.includes('ORCH-Q') ? { rc: 1, stderr: 'sudo: a password is required' } : undefined),
  });
  const alone = m.sent.filter((c) => !c.command.includes('ORCH-Q'));
  for (const p of ['/a', '/b', '/c']) assert.equal(about(alone, p).length, 1, `${p}: asked on its own once`);
  assert.deepEqual(resultLines(m.events), ['h1 stat ok', 'h1 stat ok', 'h1 stat ok']);
});

test('prefetch in a run (pipelining transport): every query sent at once, each answer used by its task', async () => {
  const m = await runMockPlaybook(PLAY, 'h1\n', { pipelines: true });
  const asked = ['/a', '/b', '/c'].map((p) => about(m.sent, p));
  assert.deepEqual(
    asked.map((a) => a.length),
    [1, 1, 1],
    'each query once (no wrapper script)',
  );
  const firstResult = m.events.findIndex((e) => e.type === 'host_result');
  assert.ok(
    asked.every((a) => (a[0]?.eventsBefore ?? Infinity) <= firstResult),
    'all before the first result',
  );
});

test('prefetch in a run: a command that is not a prefetched query (a write) makes the next tasks ask again', async () => {
  const m = await runMockPlaybook(
    `- hosts: h1\n  gather_facts: false\n  tasks:\n    - stat: path=/a\n    - shell: "true"\n    - stat: path=/b\n    - stat: path=/a\n`,
    'h1\n',
    { answer: answerBatches },
  );
  const batches = m.sent.filter((c) => c.command.includes('ORCH-Q'));
  assert.equal(batches.length, 2, 'one window before the shell task, a new one after it');
  assert.equal(about([batches[1] as { command: string }], '/a').length, 1, '/a is asked again after the shell task');
});

/** MOCK: a batch as root (sudo) is refused; any other batch is answered. */
const refuseSudoBatches: Answer = (h, c, o) =>
  c.includes('ORCH-Q') && o.become ? { rc: 1, stderr: 'sudo: a password is required' } : answerBatches(h, c, o);

test('prefetch in a run: a batch refused for a become user is not sent again in the play (one round trip per task saved); the next play tries again', async () => {
  const five = ['/a', '/b', '/c', '/d', '/e'].map((p) => `    - stat: path=${p}\n`).join('');
  const play = `- hosts: h1\n  gather_facts: false\n  become: true\n  tasks:\n${five}`;
  const m = await runMockPlaybook(play + play, 'h1\n', { answer: refuseSudoBatches });
  const batches = m.sent.filter((c) => c.command.includes('ORCH-Q'));
  assert.equal(batches.length, 2, 'one refused batch per play, not one per task');
  const alone = m.sent.filter((c) => !c.command.includes('ORCH-Q'));
  for (const p of ['/a', '/b', '/c', '/d', '/e']) assert.equal(about(alone, p).length, 2, `${p}: asked on its own`);
  assert.equal(resultLines(m.events).length, 10);
});

test('prefetch in a run: a batch refused for one become user does not stop the batches of another', async () => {
  const m = await runMockPlaybook(
    `- hosts: h1\n  gather_facts: false\n  tasks:\n    - { stat: path=/a, become: true }\n    - { stat: path=/b, become: true }\n    - stat: path=/c\n    - stat: path=/d\n`,
    'h1\n',
    { answer: refuseSudoBatches },
  );
  const batches = m.sent.filter((c) => c.command.includes('ORCH-Q'));
  assert.equal(batches.filter((b) => b.opts.become).length, 1, 'the refused batch once');
  assert.equal(batches[1]?.opts.become, undefined, "the login user's batch right after it, in the same window");
  const alone = m.sent.filter((c) => !c.command.includes('ORCH-Q'));
  for (const p of ['/c', '/d']) assert.deepEqual(about(alone, p), [], `${p}: answered by a batch of the login user`);
  assert.deepEqual(resultLines(m.events), ['h1 stat ok', 'h1 stat ok', 'h1 stat ok', 'h1 stat ok']);
});
