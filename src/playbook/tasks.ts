/**
 * Loading a list of tasks: blocks (with a block's own serial), includes and imports of tasks files and roles
 * (static ones loaded now, dynamic ones left for run time), and each module task (module-task.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ParseError, type Position } from '../core/errors.js';
import { resolveModuleName } from '../modules/registry.js';
import { suggest } from '../modules/spec.js';
import type { Secrets } from '../core/secrets.js';
import { keyPosition, loadYamlFile, positionOf, withPositionOf } from '../yaml/load.js';
import { containsTemplate, parseKeyValueArgs } from './args.js';
import { parseMaxFailPercentage, parseSerial } from './serial.js';
import type { Block, DynamicInclude, Inherited, Item } from './model.js';
import { inherit } from './inherit.js';
import { loadModuleTask } from './module-task.js';
import {
  asList,
  INCLUDE_ACTIONS,
  isDict,
  missingTaskKeywords,
  TASK_KEYWORDS,
  moduleOf,
  parseLoop,
  parseLoopControl,
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
  loadRole(spec: Dict, inherited: Inherited, pos: Position, exported?: boolean | 'when-run'): Item[];
  /** the vault password, and where vaulted values, passwords and no_log parameters read at load go */
  secrets: Secrets;
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

/**
 * An include's `vars:`: include params for include_tasks/include_role (above set_fact and include_vars, as in
 * Ansible), task vars for import_tasks/import_role.
 */
function withIncludeParams(child: Inherited, e: Dict, dynamic: boolean): Inherited {
  if (!isDict(e.vars)) return child;
  if (dynamic) return { ...child, params: { ...child.params, ...e.vars } };
  return { ...child, vars: { ...child.vars, ...e.vars } };
}

/**
 * What the tasks of an include_tasks/include_role inherit: none of the include's own keywords (when, tags,
 * ignore_errors, no_log, run_once, timeout are the include's alone: Ansible skips a dynamic parent when its
 * tasks look up a keyword; a tag on the include selects the include, not its tasks), its `apply:` keywords,
 * its vars as include params.
 */
function includedInherited(inh: Inherited, e: Dict, args: Dict): Inherited {
  const applied = inherit(inh, isDict(args.apply) ? args.apply : {}, inh.dir);
  return withIncludeParams(applied, e, true);
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
  const dynamic = action !== 'import_tasks' && action !== 'import_role';
  // include_*'s `apply:` keywords reach the included tasks (become, tags, environment...)
  const child = withIncludeParams(
    inherit(inherit(inh, { ...e, vars: undefined }, inh.dir), dynamic && isDict(args.apply) ? args.apply : {}, inh.dir),
    e,
    dynamic,
  );
  if (action === 'import_role' || action === 'include_role') {
    // `include_role: name=r tasks_from=x` as Ansible reads it (k=v)
    const spec = typeof raw === 'string' ? parseKeyValueArgs(raw) : raw;
    if (!isDict(spec) || typeof spec.name !== 'string') throw new ParseError(`${action} needs name: ROLE`, pos);
    // an include_role runs as an include (its condition and loop decided per host, shown ok)
    const roleInh = dynamic ? includedInherited(inh, e, args) : child;
    // a role named in a task runs each time it is named (only roles: and dependencies run once, as in Ansible)
    const items = ctx.loadRole(
      {
        role: spec.name,
        tasks_from: spec.tasks_from,
        rolespec_validate: spec.rolespec_validate,
        _include_role: action === 'include_role',
        // as Ansible: the task's vars are also the role's (exported with it: an imported role's to the play)
        vars: { ...(isDict(spec.vars) ? spec.vars : {}), ...(isDict(e.vars) ? e.vars : {}) },
        allow_duplicates: true,
      },
      roleInh,
      pos,
      // the play sees an imported role's vars and defaults, an included one's only with public: yes
      action === 'import_role' || (spec.public === true && 'when-run'),
    );
    if (!dynamic) return items;
    const loop = parseLoop(e, pos);
    const loop_control = parseLoopControl(e.loop_control, pos);
    return [
      {
        kind: 'include',
        id: ctx.nextId(),
        name,
        file: spec.name,
        includesRole: true,
        loop,
        loop_control,
        pos,
        preloaded: items,
        ...child,
      },
    ];
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
      inner: includedInherited(inh, e, args),
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
  const preloaded = loadTasksFile(resolveTasksFile(fileArg, inh), ctx, includedInherited(inh, e, args), pos);
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

/**
 * An unnamed include's title: `include_role : ROLE` as Ansible names it (with the action as written:
 * `ansible.builtin.include_role : ROLE`); an include of tasks by its file.
 */
function unnamedIncludeTitle(action: string, written: string, raw: unknown): string {
  const spec = action === 'include_role' && typeof raw === 'string' ? parseKeyValueArgs(raw) : raw;
  if (action === 'include_role' && isDict(spec) && spec.name !== undefined) return `${written} : ${String(spec.name)}`;
  return `${action} ${JSON.stringify(raw)}`;
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
      title || unnamedIncludeTitle(action, rawName, raw),
    );
  return [loadModuleTask(e, ctx, inh, pos, { rawName, raw, key, action, title })];
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
