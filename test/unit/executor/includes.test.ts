import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunEvent } from '../../../src/core/events.js';
import { resultLines, runMockPlaybook } from '../../helpers/mock-transport.js';

const play = (tasks: string, vars = '{}') => `- hosts: all\n  gather_facts: false\n  vars: ${vars}\n  tasks:\n${tasks}`;
const THREE = '- { name: one, debug: msg=1 }\n- { name: two, debug: msg=2 }\n- { name: three, debug: msg=3 }\n';

const starts = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'task_start' ? [{ id: e.taskId, name: e.name }] : []));

test('include_tasks chosen at run time: each included task gets its own id, and its results carry that id', async () => {
  const m = await runMockPlaybook(play('    - name: inc\n      include_tasks: "{{ f }}.yml"\n', '{ f: inc }'), 'h1\n', {
    files: { 'inc.yml': THREE },
  });
  const included = starts(m.events).filter((s) => s.name !== 'inc');
  assert.deepEqual(
    included.map((s) => s.name),
    ['one', 'two', 'three'],
  );
  assert.equal(new Set(included.map((s) => s.id)).size, 3, 'three tasks, three ids');
  const include = starts(m.events).find((s) => s.name === 'inc');
  assert.ok(include && included.every((s) => s.id !== include.id), 'none shares the include task id');
  for (const s of included) {
    const r = m.events.find((e) => e.type === 'host_result' && e.taskId === s.id);
    assert.ok(r?.type === 'host_result' && r.task === s.name, `the result of ${s.name} has its id`);
  }
});

test('include_tasks: "included: FILE" is an ok per host; a false condition is a skip and runs nothing', async () => {
  const m = await runMockPlaybook(
    play(`    - name: inc\n      include_tasks: "{{ f }}.yml"\n      when: inventory_hostname == 'h1'\n`, '{ f: inc }'),
    'h1\nh2\n',
    { files: { 'inc.yml': '- { name: one, debug: msg=1 }\n' } },
  );
  assert.deepEqual(resultLines(m.events), ['h1 inc ok', 'h2 inc skipped', 'h1 one ok']);
  const ok = m.events.find((e) => e.type === 'host_result' && e.status === 'ok' && e.module === 'include_tasks');
  assert.match(ok?.type === 'host_result' ? (ok.msg ?? '') : '', /^included: .*\/inc\.yml$/);
  assert.deepEqual([m.rs.hosts.get('h1')?.stats.ok, m.rs.hosts.get('h2')?.stats.skipped], [2, 1]);
});

test('include_tasks in a loop: the file runs once per item with the loop variable and index_var, which are gone after', async () => {
  const m = await runMockPlaybook(
    play(
      `    - name: inc
      include_tasks: "{{ f }}.yml"
      loop: [a, b]
      loop_control: { loop_var: x, index_var: i }
    - { name: "after {{ x | default('unset') }}", debug: msg=done }
`,
      '{ f: inc }',
    ),
    'h1\n',
    { files: { 'inc.yml': '- { name: "got {{ x }} {{ i }}", debug: msg=1 }\n' } },
  );
  assert.deepEqual(resultLines(m.events), [
    'h1 inc ok',
    'h1 inc ok',
    'h1 got a 0 ok',
    'h1 got b 1 ok',
    'h1 after unset ok',
  ]);
});

test('include_tasks: hosts that include different files each run their own file', async () => {
  const m = await runMockPlaybook(
    play('    - name: inc\n      include_tasks: "{{ inventory_hostname }}.yml"\n'),
    'h1\nh2\n',
    {
      files: { 'h1.yml': '- { name: only h1, debug: msg=1 }\n', 'h2.yml': '- { name: only h2, debug: msg=2 }\n' },
    },
  );
  assert.deepEqual(resultLines(m.events), ['h1 inc ok', 'h2 inc ok', 'h1 only h1 ok', 'h2 only h2 ok']);
});

test('include_tasks: a file included again in the same play is loaded once (its tasks keep their ids)', async () => {
  const m = await runMockPlaybook(
    play('    - name: inc\n      include_tasks: "{{ f }}.yml"\n      loop: [1, 2]\n', '{ f: inc }'),
    'h1\n',
    {
      files: { 'inc.yml': '- { name: one, debug: msg=1 }\n' },
    },
  );
  const ids = starts(m.events)
    .filter((s) => s.name === 'one')
    .map((s) => s.id);
  assert.equal(ids.length, 2);
  assert.equal(ids[0], ids[1]);
});

test('include_tasks/include_role and --tags: a tag on the include selects the include alone, not its tasks; an include without the tag does not run (as Ansible)', async () => {
  const m = await runMockPlaybook(
    play(
      `    - { name: untagged inc, include_tasks: inc.yml }
    - { name: untagged role, include_role: { name: r } }
    - { name: tagged inc, include_tasks: inc.yml, tags: [x] }
    - { name: tagged role, include_role: { name: r }, tags: [x] }
    - { name: tagged dynamic inc, include_tasks: "{{ f }}.yml", tags: [x] }
    - { name: applied inc, include_tasks: { file: inc.yml, apply: { tags: [x] } }, tags: [x] }
`,
      '{ f: inc }',
    ),
    'h1\n',
    {
      files: {
        'inc.yml': '- { name: one, debug: msg=1 }\n',
        'roles/r/tasks/main.yml': '- { name: in r, debug: msg=r }\n',
      },
      run: { tags: ['x'] },
    },
  );
  assert.deepEqual(resultLines(m.events), [
    'h1 tagged inc ok',
    'h1 tagged role ok',
    'h1 tagged dynamic inc ok',
    'h1 applied inc ok',
    'h1 one ok',
  ]);
  assert.equal(m.rs.hosts.get('h1')?.stats.ok, 4, 'the include_role is shown, not counted');
});
