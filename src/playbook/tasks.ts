import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ParseError, type Position } from '../core/errors.js';
import { findModule, modules, resolveModuleName } from '../modules/registry.js';
import { suggest } from '../modules/spec.js';
import { ansibleModule, ansibleShortNames } from './ansible-known.js';
import { empty, notImplementedKeywords, TASK_KEYWORDS_NOT_IMPLEMENTED } from './keywords.js';
import type { Secrets } from '../core/secrets.js';
import { keyPosition, loadYamlFile, positionOf, withPositionOf } from '../yaml/load.js';
import { ARGS_TEMPLATE, containsTemplate } from './args.js';
import { parseMaxFailPercentage, parseSerial } from './serial.js';
import type { Block, DynamicInclude, Inherited, Item, RoleContext, Task } from './model.js';
import {
  asList,
  INCLUDE_ACTIONS,
  isDict,
  missingTaskKeywords,
  TASK_KEYWORDS,
  libraryModule,
  lookupNotImplemented,
  moduleArgs,
  moduleOf,
  parseLoop,
  parseLoopControl,
  strings,
  validateAtLoad,
} from './task-parts.js';

export { missingTaskKeywords };

type Dict = Record<string, unknown>;

/** What task loading needs from the play loader (roles are loaded there). */
export interface LoadContext {
  file: string;
  /** files being loaded right now, to refuse include cycles */
  stack: string[];
  nextId(): number;
  /** load a role's tasks (import_role/include_role/roles:), registering its handlers and defaults */
  loadRole(spec: Dict, inherited: Inherited, pos: Position): Item[];
  /** the vault password, and where vaulted values, passwords and no_log parameters read at load go */
  secrets: Secrets;
}

/** Keywords of this entry layered over what it inherits. */
export function inherit(parent: Inherited, e: Dict, dir: string, role?: RoleContext): Inherited {
  return {
    when: [...parent.when, ...asList(e.when)],
    tags: [...new Set([...parent.tags, ...strings(e.tags)])],
    become: e.become !== undefined ? Boolean(e.become) : parent.become,
    become_user: e.become_user !== undefined ? String(e.become_user) : parent.become_user,
    become_method: e.become_method !== undefined ? String(e.become_method) : parent.become_method,
    environment:
      isDict(e.environment) || typeof e.environment === 'string'
        ? [...parent.environment, e.environment as Dict]
        : parent.environment,
    vars: isDict(e.vars) ? { ...parent.vars, ...e.vars } : parent.vars,
    ignore_errors: e.ignore_errors ?? parent.ignore_errors,
    ignore_unreachable: e.ignore_unreachable !== undefined ? Boolean(e.ignore_unreachable) : parent.ignore_unreachable,
    no_log: e.no_log ?? parent.no_log,
    check_mode: e.check_mode ?? parent.check_mode,
    diff: e.diff !== undefined ? Boolean(e.diff) : parent.diff,
    delegate_to: e.delegate_to !== undefined ? String(e.delegate_to) : parent.delegate_to,
    run_once: e.run_once !== undefined ? Boolean(e.run_once) : parent.run_once,
    any_errors_fatal: e.any_errors_fatal !== undefined ? Boolean(e.any_errors_fatal) : parent.any_errors_fatal,
    connection: e.connection !== undefined ? String(e.connection) : parent.connection,
    remote_user: e.remote_user !== undefined ? String(e.remote_user) : parent.remote_user,
    throttle: e.throttle ?? parent.throttle,
    module_defaults: isDict(e.module_defaults)
      ? [...(parent.module_defaults ?? []), e.module_defaults]
      : parent.module_defaults,
    delegate_facts: e.delegate_facts !== undefined ? Boolean(e.delegate_facts) : parent.delegate_facts,
    timeout: e.timeout ?? parent.timeout,
    port: e.port !== undefined ? String(e.port) : parent.port,
    notImplemented: [
      ...new Set([...(parent.notImplemented ?? []), ...notImplementedKeywords(e, TASK_KEYWORDS_NOT_IMPLEMENTED)]),
    ],
    role: role ?? parent.role,
    dir,
  };
}

export function resolveTasksFile(name: string, inh: Inherited): string {
  if (isAbsolute(name)) return name;
  const candidates = [resolve(inh.dir, name)];
  // as Ansible in a role: ROLE/tasks/NAME, then NAME from the role's root (`include_tasks: tasks/x.yml`)
  if (inh.role) candidates.push(join(inh.role.path, 'tasks', name), join(inh.role.path, name));
  return candidates.find((c) => existsSync(c)) ?? (candidates[0] as string);
}

export function loadTasksFile(file: string, ctx: LoadContext, inh: Inherited, pos: Position): Item[] {
  if (ctx.stack.includes(file)) {
    throw new ParseError(
      `recursive include: ${[...ctx.stack.slice(ctx.stack.indexOf(file)), file].join(' -> ')}`,
      pos,
      'A tasks file includes itself through this chain; break the cycle.',
    );
  }
  if (!existsSync(file)) throw new ParseError(`tasks file not found: ${file}`, pos);
  const data = loadYamlFile(file, ctx.secrets);
  if (data === null) return [];
  if (!Array.isArray(data)) throw new ParseError('a tasks file is a list of tasks', { file, line: 1 });
  const sub: LoadContext = { ...ctx, file, stack: [...ctx.stack, file] };
  return loadTaskList(data, sub, { ...inh, dir: dirname(file) });
}

/** Keywords Ansible 2.14 takes on include_tasks / include_role; the others go in `apply:` (Ansible refuses them). */
const INCLUDE_KEYWORDS = new Set([
  'action',
  'args',
  'collections',
  'debugger',
  'ignore_errors',
  'loop',
  'loop_control',
  'name',
  'no_log',
  'register',
  'run_once',
  'tags',
  'timeout',
  'vars',
  'when',
]);

function checkIncludeKeywords(e: Dict, moduleKey: string, action: string, pos: Position): void {
  for (const k of Object.keys(e)) {
    if (k === moduleKey || INCLUDE_KEYWORDS.has(k) || k.startsWith('with_')) continue;
    throw new ParseError(
      `'${k}' is not a valid attribute for a ${action === 'include_role' ? 'IncludeRole' : 'TaskInclude'}`,
      keyPosition(e, k) ?? pos,
      `As in Ansible: keywords for the included tasks go in \`apply:\` (e.g. ${action}: { ${action === 'include_role' ? 'name' : 'file'}: ..., apply: { ${k}: ... } }).`,
    );
  }
}

function loadInclude(
  e: Dict,
  action: string,
  raw: unknown,
  ctx: LoadContext,
  inh: Inherited,
  pos: Position,
  name: string,
): Item[] {
  const args = isDict(raw) ? raw : { _raw: raw };
  // include_*'s `apply:` keywords reach the included tasks (become, tags, environment...)
  const child = inherit(
    inherit(inh, e, inh.dir),
    isDict(args.apply) && action !== 'import_tasks' && action !== 'import_role' ? args.apply : {},
    inh.dir,
  );
  if (action === 'import_role' || action === 'include_role') {
    if (!isDict(raw) || typeof raw.name !== 'string') throw new ParseError(`${action} needs name: ROLE`, pos);
    // a role named in a task runs each time it is named (only roles: and dependencies run once, as in Ansible)
    return ctx.loadRole(
      {
        role: raw.name,
        tasks_from: raw.tasks_from,
        vars: { ...(isDict(raw.vars) ? raw.vars : {}) },
        allow_duplicates: true,
      },
      child,
      pos,
    );
  }
  const fileArg = String(isDict(raw) ? (raw.file ?? raw._raw_params ?? '') : raw).trim();
  if (!fileArg) throw new ParseError(`${action} needs a file name`, pos);
  const loop = parseLoop(e, pos);
  // include_tasks is dynamic in Ansible: a missing file behind a condition fails only if a host reaches the
  // include; without any condition it would fail for certain, so that stays a load error
  const conditional = inh.when.length > 0 || asList(e.when).length > 0;
  const missing = conditional && !containsTemplate(fileArg) && !existsSync(resolveTasksFile(fileArg, inh));
  if (action !== 'import_tasks' && (containsTemplate(fileArg) || loop || missing)) {
    const inc: DynamicInclude = {
      kind: 'include',
      id: ctx.nextId(),
      name,
      file: fileArg,
      loop,
      loop_control: parseLoopControl(e.loop_control, pos),
      pos,
      ...child,
    };
    return [inc];
  }
  if (containsTemplate(fileArg))
    throw new ParseError(
      'import_tasks is static: its file name cannot use variables',
      pos,
      'Use include_tasks for a file chosen at run time.',
    );
  if (action === 'import_tasks') return loadTasksFile(resolveTasksFile(fileArg, inh), ctx, child, pos);
  // include_tasks of a literal file: loaded (and checked) now; its own condition is the include's, decided once
  const { when: _own, ...withoutWhen } = e;
  const applied = inherit(inherit(inh, withoutWhen, inh.dir), isDict(args.apply) ? args.apply : {}, inh.dir);
  const preloaded = loadTasksFile(resolveTasksFile(fileArg, inh), ctx, applied, pos);
  return [{ kind: 'include', id: ctx.nextId(), name, file: fileArg, pos, preloaded, ...child }];
}

/** Keywords a block takes beyond a task's: orch's per-block serial (Ansible has serial only on plays). */
const BLOCK_ONLY_KEYWORDS = new Set(['serial', 'max_fail_percentage']);

function loadBlock(e: Dict, ctx: LoadContext, inh: Inherited, pos: Position): Block {
  for (const k of Object.keys(e)) {
    if (!TASK_KEYWORDS.has(k) && !BLOCK_ONLY_KEYWORDS.has(k)) {
      const guess = suggest(k, TASK_KEYWORDS);
      throw new ParseError(
        `'${k}' is not a valid keyword for a block${guess ? ` (did you mean '${guess}'?)` : ''}`,
        keyPosition(e, k) ?? pos,
      );
    }
  }
  if (e.max_fail_percentage !== undefined && e.serial === undefined)
    throw new ParseError('max_fail_percentage on a block needs serial:', keyPosition(e, 'max_fail_percentage') ?? pos);
  const child = inherit(inh, e, inh.dir);
  const list = (key: string): Item[] => {
    const v = e[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new ParseError(`${key} must be a list of tasks`, keyPosition(e, key) ?? pos);
    return loadTaskList(v, ctx, child);
  };
  const serial = parseSerial(e.serial, keyPosition(e, 'serial') ?? pos);
  const maxFailPercentage = parseMaxFailPercentage(e.max_fail_percentage);
  return {
    kind: 'block',
    id: ctx.nextId(),
    name: String(e.name ?? 'block'),
    block: list('block'),
    rescue: list('rescue'),
    always: list('always'),
    pos,
    ...child,
    serial,
    maxFailPercentage,
  };
}

/** A task (an include_tasks, typically) with `serial:` runs as a one-task block with that serial. */
function asSerialBlock(e: Dict): Dict {
  const { serial, max_fail_percentage, ...task } = e;
  return withPositionOf(
    { name: task.name ?? 'serial', serial, max_fail_percentage, block: [withPositionOf(task, e)] },
    e,
  );
}

function loadTask(e: Dict, ctx: LoadContext, inh: Inherited): Item[] {
  const pos = positionOf(e) ?? { file: ctx.file };
  if (e.block !== undefined) return [loadBlock(e, ctx, inh, pos)];
  if (e.serial !== undefined || e.max_fail_percentage !== undefined)
    return [loadBlock(asSerialBlock(e), ctx, inh, pos)];
  const { name: rawName, raw, key } = moduleOf(e, pos);
  const action = resolveModuleName(rawName);
  const title = e.name !== undefined ? String(e.name) : '';
  if (action === 'include_tasks' || action === 'include_role') checkIncludeKeywords(e, key, action, pos);
  if (INCLUDE_ACTIONS.has(action))
    return loadInclude(
      e,
      action === 'include' ? 'include_tasks' : action,
      raw,
      ctx,
      inh,
      pos,
      title || `${action} ${JSON.stringify(raw)}`,
    );
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
  return [task];
}

export function loadTaskList(data: unknown[], ctx: LoadContext, inh: Inherited): Item[] {
  const out: Item[] = [];
  for (const entry of data) {
    if (!isDict(entry))
      throw new ParseError(
        'each task must be a mapping',
        positionOf(data) ?? { file: ctx.file },
        'Start each task with `- name: ...` followed by a module.',
      );
    out.push(...loadTask(entry, ctx, inh));
  }
  return out;
}
