import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunEvent } from '../../src/core/events.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { initialState, reduce } from '../../src/ui/tui-state.js';
import { writePlaybook } from '../helpers/lab.js';
import { Secrets } from '../../src/core/secrets.js';

const ids = (path: string): number[] =>
  loadPlaybook(path, { secrets: new Secrets() }).plays.flatMap((p) =>
    [...p.sections.flat(), ...p.handlers].map((i) => i.id),
  );

test('task ids count from 1 in each playbook load (no process-wide counter): loading twice gives the same ids', () => {
  const pb = writePlaybook(
    '- hosts: all\n  tasks:\n    - command: id\n    - command: id\n  handlers:\n    - name: h\n      command: id\n',
  );
  const first = ids(pb);
  assert.deepEqual(first, [1, 2, 3]);
  assert.deepEqual(ids(pb), first);
});

test('an imported playbook shares the importer ids: no two tasks of one load have the same id', () => {
  const pb = writePlaybook('- import_playbook: other.yml\n- hosts: all\n  tasks:\n    - command: id\n', {
    'other.yml': '- hosts: all\n  tasks:\n    - command: id\n    - command: id\n',
  });
  const all = ids(pb);
  assert.equal(new Set(all).size, all.length);
});

test('TUI static line ids belong to each state: a second TUI state starts again at 0', () => {
  const play: RunEvent = { type: 'play_start', name: 'p', hosts: ['h'] };
  const a = reduce(initialState('x'), play, 0);
  reduce(a, play, 0);
  const b = reduce(initialState('x'), play, 0);
  assert.deepEqual(
    a.lines.map((l) => l.id),
    [0, 1],
  );
  assert.deepEqual(
    b.lines.map((l) => l.id),
    [0],
  );
});
