/**
 * Loading one task that runs a module (not a block or an include): the module named (orch's, Ansible's,
 * or a role's library/), its arguments checked at load, its task keywords (retries, delay, register...).
 */
import { ParseError, type Position } from '../core/errors.js';
import { findModule, modules } from '../modules/registry.js';
import { suggest } from '../modules/spec.js';
import { ansibleModule, ansibleShortNames } from './ansible-known.js';
import { empty } from './keywords.js';
import { keyPosition } from '../yaml/load.js';
import { ARGS_TEMPLATE, containsTemplate } from './args.js';
import type { Inherited, Task } from './model.js';
import {
  isDict,
  libraryModule,
  lookupNotImplemented,
  moduleArgs,
  parseLoop,
  parseLoopControl,
  strings,
  validateAtLoad,
} from './task-parts.js';
import { inherit } from './inherit.js';
import type { LoadContext } from './tasks.js';

type Dict = Record<string, unknown>;

/** What names the module in a task entry (moduleOf), with the action it resolves to and the task's title. */
export interface ModuleEntry {
  rawName: string;
  raw: unknown;
  key: string;
  action: string;
  title: string;
}

export function loadModuleTask(e: Dict, ctx: LoadContext, inh: Inherited, pos: Position, entry: ModuleEntry): Task {
  const { rawName, raw, key, action, title } = entry;
  const mod = findModule(action);
  const fromLibrary = !mod && !ansibleModule(rawName) && libraryModule(rawName, inh, ctx);
  if (!mod && !ansibleModule(rawName) && !fromLibrary) {
    const guess = suggest(rawName, [...modules.keys(), ...ansibleShortNames()]);
    throw new ParseError(
      `unknown module '${rawName}'${guess ? ` (did you mean '${guess}'?)` : ''}`,
      keyPosition(e, key) ?? pos,
      'Neither orch nor Ansible has a module of that name.',
    );
  }
  const args = moduleArgs(action, raw, e.args, pos);
  const conditional = (inh.when?.length ?? 0) > 0 || (e.when !== undefined && e.when !== null && e.when !== true);
  // arguments from a template are known only per host: checked when rendered
  if (!fromLibrary && !(ARGS_TEMPLATE in args))
    validateAtLoad(rawName, action, args, pos, isDict(raw) ? raw : e, conditional, ctx.secrets);
  const inherited = inherit(inh, e, inh.dir);
  const lookups = lookupNotImplemented(e, pos);
  if (lookups.length > 0) inherited.notImplemented = [...(inherited.notImplemented ?? []), ...lookups];
  const task: Task = {
    kind: 'task',
    id: ctx.nextId(),
    // An unnamed task is shown by its command line, unless no_log: its arguments may hold the secret.
    name:
      title ||
      (inherited.no_log !== undefined && inherited.no_log !== false
        ? (mod?.name ?? rawName)
        : `${mod?.name ?? rawName}${args._raw_params ? ` ${String(args._raw_params)}` : ''}`),
    // a module Ansible has and orch lacks keeps its name: the task fails when a host reaches it
    module: mod?.name ?? rawName,
    args,
    pos,
    loop: parseLoop(e, pos),
    loop_control: parseLoopControl(e.loop_control, pos),
    register: e.register === undefined ? undefined : String(e.register),
    notify: strings(e.notify),
    changed_when: e.changed_when,
    failed_when: e.failed_when,
    until: e.until,
    retries: e.retries,
    delay: e.delay,
    timeout: e.timeout,
    async: empty(e.async) ? undefined : e.async,
    listen: strings(e.listen),
    ...inherited,
    // a task's own vars do not flow to siblings, but are part of its scope
    vars: inherited.vars,
  };
  if (e.local_action !== undefined) task.delegate_to = 'localhost';
  for (const k of ['retries', 'delay', 'timeout'] as const) {
    const v = e[k];
    // Ansible reads these as int(value): a fractional delay (0.5) is accepted and truncated
    if (
      v !== undefined &&
      !(typeof v === 'number' && Number.isFinite(v) && v >= 0) &&
      !(typeof v === 'string' && (/^\d+(\.\d*)?$/.test(v) || containsTemplate(v)))
    ) {
      throw new ParseError(
        `${k}: expected a whole number of ${k === 'retries' ? 'attempts' : 'seconds'}, got ${JSON.stringify(v)}`,
        keyPosition(e, k) ?? pos,
      );
    }
  }
  if (task.register !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(task.register))
    throw new ParseError(
      `register: '${task.register}' is not a valid variable name`,
      keyPosition(e, 'register') ?? pos,
    );
  return task;
}
