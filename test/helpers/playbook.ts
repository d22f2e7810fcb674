import { Secrets } from '../../src/core/secrets.js';
import { loopLookup } from '../../src/executor/loop.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { Item, Play, Task } from '../../src/playbook/model.js';
import { renderValue } from '../../src/template/env.js';
import { VarScope } from '../../src/template/scope.js';
import { writePlaybook } from './lab.js';

/** Plays and tasks loaded from YAML text, and variable scopes, for unit tests of the executor (no host). */

/** The first play of a playbook (YAML text written to a temp file beside `files`). */
export function playOf(yaml: string, files: Record<string, string> = {}): Play {
  const play = loadPlaybook(writePlaybook(yaml, files), { secrets: new Secrets() }).plays[0];
  if (!play) throw new Error('no play');
  return play;
}

/** The items of a one-play playbook's `tasks:` (the YAML list items, indented by four spaces). */
export function tasksOf(tasksYaml: string): Item[] {
  return playOf(`- hosts: all\n  tasks:\n${tasksYaml}`).sections.flat();
}

/** Every task of these items, blocks (block, rescue, always) opened, in order. */
export function flatTasks(items: Item[]): Task[] {
  return items.flatMap((i) =>
    i.kind === 'task' ? [i] : i.kind === 'block' ? flatTasks([...i.block, ...i.rescue, ...i.always]) : [],
  );
}

/** The one task of `tasksOf`, typed. */
export function taskOf(taskYaml: string): Task {
  const t = tasksOf(`    - ${taskYaml}\n`)[0];
  if (t?.kind !== 'task') throw new Error('not a task');
  return t;
}

/** A scope with these variables (templated when read, as play vars are). */
export function scopeOf(vars: Record<string, unknown> = {}, lookupPaths: string[] = []): VarScope {
  return new VarScope([{ name: 'vars', vars, templated: true }], (v, s) => renderValue(v, s), {
    lookupPaths,
    secrets: new Secrets(),
    loopLookup,
  });
}
