import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlayVars } from '../../../src/executor/scope.js';
import { buildScope } from '../../../src/executor/scope.js';
import { recordQuery, speculate } from '../../../src/executor/task-queries.js';
import { mockRunState } from '../../helpers/mock-transport.js';
import { flatTasks, playOf } from '../../helpers/playbook.js';

/** The queries recorded for each task of the play on mock host h1 (nothing may be sent to do so). */
async function recorded(playYaml: string, inventory = 'h1\n') {
  const play = playOf(playYaml);
  const m = mockRunState(inventory);
  const pv: PlayVars = { play, filesVars: {}, playHosts: ['h1'], batch: ['h1'] };
  const out = [];
  for (const t of flatTasks(play.sections.flat())) out.push(await recordQuery(m.rs, pv, t, 'h1'));
  assert.deepEqual(m.sent, [], 'recording sends nothing');
  return out;
}

const hex = (path: string) => `pack("H*","${Buffer.from(path).toString('hex')}")`;

test('recordQuery: the first read-only command of a plain query task, with the become/env/timeout it would run with', async () => {
  const [q] = await recorded(
    '- hosts: all\n  become: true\n  tasks:\n    - { stat: path=/etc/x, environment: { A: "1" }, timeout: 7 }\n',
  );
  assert.equal(q?.length, 1);
  assert.ok(q?.[0]?.command.includes(hex('/etc/x')));
  assert.deepEqual(q?.[0]?.opts, { become: { user: 'root' }, env: { A: '1' }, timeoutMs: 7000 });
});

test('recordQuery: a loop gives one query per item in order, items whose condition is false none', async () => {
  const [q] = await recorded(
    "- hosts: all\n  tasks:\n    - { stat: 'path=/{{ item }}', loop: [a, b, c], when: item != 'b' }\n",
  );
  assert.deepEqual(
    q?.map((x) => [hex('/a'), hex('/c')].findIndex((h) => x.command.includes(h))),
    [0, 1],
  );
});

test('recordQuery: nothing for a task that is not a plain query of its own host over the play connection', async () => {
  const qs = await recorded(`- hosts: all
  tasks:
    - { stat: path=/a, delegate_to: h2 }
    - { stat: path=/a, run_once: true }
    - { stat: path=/a, remote_user: other }
    - { shell: "cat /a" }
    - { stat: "path={{ r.stdout }}" }
`);
  assert.deepEqual(
    qs.map((q) => q.length),
    [0, 0, 0, 0, 0],
    'delegated, run_once, own login, no query module, a value not known yet',
  );
});

/** The commands speculate sends behind a write when the tasks after it are `ahead`. */
async function speculated(playYaml: string, touchedBefore = false): Promise<string[]> {
  const play = playOf(playYaml);
  const m = mockRunState('h1\n');
  const pv: PlayVars = { play, filesVars: {}, playHosts: ['h1'], batch: ['h1'] };
  const hs = m.rs.hosts.get('h1');
  assert.ok(hs);
  hs.prefetch.ahead = flatTasks(play.sections.flat());
  hs.prefetch.touchedBefore = touchedBefore;
  await speculate(m.rs, pv, hs, await m.rs.pool.get('h1', buildScope(m.rs, 'h1', pv, undefined)), undefined);
  return m.sent.map((s) => s.command);
}

test('speculate: a stat (its query runs file and lsattr) is fetched behind a write only as the very next task', async () => {
  const statNext = await speculated(
    '- hosts: all\n  tasks:\n    - stat: path=/etc/s\n    - copy: dest=/etc/c content=x\n',
  );
  assert.deepEqual(
    statNext.map((c) => [hex('/etc/s'), hex('/etc/c')].findIndex((h) => c.includes(h))),
    [0, 1],
  );
  const statSecond = await speculated(
    '- hosts: all\n  tasks:\n    - copy: dest=/etc/c content=x\n    - stat: path=/etc/s\n',
  );
  assert.deepEqual(
    statSecond.map((c) => [hex('/etc/s'), hex('/etc/c')].findIndex((h) => c.includes(h))),
    [1],
    'the copy between may change the host: the stat is asked when its turn comes',
  );
});

test("speculate: after a task that changed the host too, only the next task's query rides behind the write", async () => {
  const pb = '- hosts: all\n  tasks:\n    - copy: dest=/etc/a content=x\n    - copy: dest=/etc/b content=x\n';
  const which = (cs: string[]) => cs.map((c) => [hex('/etc/a'), hex('/etc/b')].findIndex((h) => c.includes(h)));
  assert.deepEqual(which(await speculated(pb)), [0, 1], 'after a task that changed nothing: the tasks ahead');
  assert.deepEqual(which(await speculated(pb, true)), [0], 'in a stretch of changes: the next one only');
});

test('recordQuery: a task recorded again with nothing changed gives the same queries without rendering again', async () => {
  const play = playOf(
    '- hosts: all\n  tasks:\n    - { stat: "path=/etc/{{ name }}", vars: { name: "{{ renders() }}" } }\n',
  );
  const m = mockRunState('h1\n');
  const pv: PlayVars = { play, filesVars: {}, playHosts: ['h1'], batch: ['h1'] };
  const [task] = flatTasks(play.sections.flat());
  assert.ok(task);
  let renders = 0;
  // a task variable that counts how often the task's parameters are templated
  task.vars.renders = () => `f${++renders}`;
  const first = await recordQuery(m.rs, pv, task, 'h1');
  const again = await recordQuery(m.rs, pv, task, 'h1');
  assert.equal(renders, 1, 'recorded once');
  assert.equal(again, first);
  assert.ok(first[0]?.command.includes(hex('/etc/f1')));
});

test("recordQuery: recorded again once the host's variables, the inventory or the play's batch moved", async () => {
  const play = playOf('- hosts: all\n  tasks:\n    - { stat: "path=/etc/{{ name | default(\'none\') }}" }\n');
  const [task] = flatTasks(play.sections.flat());
  assert.ok(task);
  const path = async (m: ReturnType<typeof mockRunState>, pv: PlayVars) => {
    const [q] = await recordQuery(m.rs, pv, task, 'h1');
    return ['none', 'a', 'b', 'c'].find((n) => q?.command.includes(hex(`/etc/${n}`)));
  };
  const batch = (): PlayVars => ({ play, filesVars: {}, playHosts: ['h1'], batch: ['h1'] });
  let m = mockRunState('h1\n');
  let pv = batch();
  assert.equal(await path(m, pv), 'none');
  m.rs.hosts.get('h1')?.keepFacts({ name: 'a' }, 'set_fact');
  assert.equal(await path(m, pv), 'a', 'set_fact');

  m = mockRunState('h1\n');
  assert.equal(await path(m, pv), 'none');
  m.rs.inv.addDynamicHost('h1', [], { name: 'b' }, 'test');
  assert.equal(await path(m, pv), 'b', 'add_host');

  m = mockRunState('h1\n');
  assert.equal(await path(m, pv), 'none');
  play.vars.name = 'c';
  assert.equal(await path(m, pv), 'none', 'the same batch: kept');
  pv = batch();
  assert.equal(await path(m, pv), 'c', 'the next batch of the play');
});
