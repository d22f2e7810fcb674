import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ParseError } from '../core/errors.js';
import { suggest } from '../modules/spec.js';
import type { Secrets } from '../core/secrets.js';
import { keyPosition, loadYamlFile, positionOf } from '../yaml/load.js';
import type { Inherited, Item, Play, Playbook, Task } from './model.js';
import { RoleLoader } from './roles.js';
import { notImplementedKeywords, PLAY_KEYWORDS_NOT_IMPLEMENTED } from './keywords.js';
import { parseMaxFailPercentage, parseSerial } from './serial.js';
import { inherit } from './inherit.js';
import { loadTaskList, type LoadContext } from './tasks.js';

type Dict = Record<string, unknown>;

const PLAY_KEYWORDS = new Set([
  'name',
  'hosts',
  'vars',
  'vars_files',
  'roles',
  'pre_tasks',
  'tasks',
  'post_tasks',
  'handlers',
  'gather_facts',
  'become',
  'become_user',
  'become_method',
  'serial',
  'max_fail_percentage',
  'any_errors_fatal',
  'strategy',
  'tags',
  'remote_user',
  'connection',
  'environment',
  'ignore_errors',
  'no_log',
  'module_defaults',
  'collections',
  'order',
  'force_handlers',
  'check_mode',
  'diff',
  'run_once',
  'ignore_unreachable',
  'throttle',
  'timeout',
  'fact_path',
  'gather_subset',
  'gather_timeout',
  'vars_prompt',
  'become_exe',
  'become_flags',
  'port',
  'debugger',
]);

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function loadPlay(data: Dict, file: string, extraRolePaths: string[], nextId: () => number, secrets: Secrets): Play {
  const pos = positionOf(data) ?? { file };
  for (const k of Object.keys(data)) {
    if (!PLAY_KEYWORDS.has(k)) {
      const guess = suggest(k, PLAY_KEYWORDS);
      throw new ParseError(
        `'${k}' is not a valid play keyword${guess ? ` (did you mean '${guess}'?)` : ''}`,
        keyPosition(data, k) ?? pos,
      );
    }
  }
  if (data.hosts === undefined) throw new ParseError('a play needs hosts:', pos, 'Add `hosts: all` or a group name.');
  const dir = dirname(file);
  const rolePaths = [resolve(dir, 'roles'), ...extraRolePaths, dir];
  const roles = new RoleLoader(rolePaths);
  const ctx: LoadContext = {
    file,
    stack: [file],
    nextId,
    loadRole: (spec, inh, at, exported) => roles.load(spec, inh, at, ctx, exported),
    secrets,
  };
  const root: Inherited = inherit(
    { when: [], tags: [], environment: [], vars: {}, dir },
    {
      tags: data.tags,
      environment: data.environment,
      ignore_errors: data.ignore_errors,
      no_log: data.no_log,
      check_mode: data.check_mode,
      diff: data.diff,
      run_once: data.run_once,
      ignore_unreachable: data.ignore_unreachable,
      connection: data.connection,
      remote_user: data.remote_user,
      port: data.port,
      module_defaults: data.module_defaults,
      throttle: data.throttle,
      become_exe: data.become_exe,
      become_flags: data.become_flags,
      timeout: data.timeout,
    },
    dir,
  );
  const section = (key: string): Item[] => {
    const v = data[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new ParseError(`${key} must be a list`, keyPosition(data, key) ?? pos);
    return loadTaskList(v, ctx, root);
  };
  const pre = section('pre_tasks');
  const roleItems: Item[] = [];
  if (data.roles !== undefined) {
    if (!Array.isArray(data.roles)) throw new ParseError('roles must be a list', keyPosition(data, 'roles') ?? pos);
    for (const r of data.roles)
      roleItems.push(...roles.load(r, root, positionOf(r) ?? keyPosition(data, 'roles') ?? pos, ctx));
  }
  const tasks = section('tasks');
  const post = section('post_tasks');
  const playHandlers: Task[] = [];
  for (const h of section('handlers')) {
    if (h.kind !== 'task') throw new ParseError('handlers must be plain tasks', h.pos);
    playHandlers.push(h);
  }
  const varsFiles =
    data.vars_files === undefined
      ? []
      : (Array.isArray(data.vars_files) ? data.vars_files : [data.vars_files]).map(String);
  if (data.vars !== undefined && !isDict(data.vars))
    throw new ParseError('vars must be a mapping', keyPosition(data, 'vars') ?? pos);
  return {
    name: String(data.name ?? data.hosts),
    hosts: Array.isArray(data.hosts) ? data.hosts.map(String).join(',') : String(data.hosts),
    pos,
    vars: (data.vars as Dict | undefined) ?? {},
    varsFiles,
    gatherFacts: data.gather_facts === undefined ? true : Boolean(data.gather_facts),
    gatherSubset: data.gather_subset,
    factPath: data.fact_path === undefined ? undefined : String(data.fact_path),
    become: data.become === undefined ? undefined : Boolean(data.become),
    becomeUser: data.become_user === undefined ? undefined : String(data.become_user),
    becomeMethod: data.become_method === undefined ? undefined : String(data.become_method),
    serial: parseSerial(data.serial, keyPosition(data, 'serial') ?? pos),
    maxFailPercentage: parseMaxFailPercentage(data.max_fail_percentage),
    anyErrorsFatal: data.any_errors_fatal === true,
    sections: [pre, [...roleItems, ...tasks], post],
    handlers: [...roles.handlers, ...playHandlers],
    roleDefaults: roles.defaults,
    roleVars: roles.vars,
    roleNames: roles.names,
    dependencyRoleNames: roles.dependencyNames,
    rolePaths,
    dir,
    strategy: data.strategy === undefined ? 'linear' : String(data.strategy),
    order: data.order === undefined ? undefined : String(data.order),
    connection: data.connection === undefined ? undefined : String(data.connection),
    remoteUser: data.remote_user === undefined ? undefined : String(data.remote_user),
    port: data.port === undefined ? undefined : String(data.port),
    forceHandlers: data.force_handlers === true,
    notImplemented: notImplementedKeywords(data, PLAY_KEYWORDS_NOT_IMPLEMENTED),
    tags: [],
  };
}

/**
 * Load and validate a whole playbook before anything connects. Task ids count from 1 in each load (imported
 * playbooks share their importer's count); run-time includes take theirs from the play runner.
 */
export function loadPlaybook(
  path: string,
  opts: { secrets: Secrets; rolePaths?: string[]; stack?: string[]; nextId?: () => number },
): Playbook {
  const file = resolve(path);
  if (!existsSync(file)) throw new ParseError(`playbook not found: ${path}`, { file: path });
  const stack = opts.stack ?? [];
  if (stack.includes(file))
    throw new ParseError(`recursive import_playbook: ${[...stack, file].join(' -> ')}`, { file });
  const data = loadYamlFile(file, opts.secrets);
  if (!Array.isArray(data))
    throw new ParseError('a playbook is a list of plays (each starting with `- hosts: ...`)', { file, line: 1 });
  const rolePaths = opts.rolePaths ?? [resolve('roles')];
  let ids = 0;
  const nextId = opts.nextId ?? (() => ++ids);
  const plays: Play[] = [];
  for (const entry of data) {
    if (!isDict(entry)) throw new ParseError('each play must be a mapping', positionOf(data) ?? { file });
    const imp = entry.import_playbook ?? entry['ansible.builtin.import_playbook'];
    if (imp !== undefined) {
      const sub = loadPlaybook(resolve(dirname(file), String(imp)), {
        secrets: opts.secrets,
        rolePaths,
        stack: [...stack, file],
        nextId,
      });
      plays.push(...sub.plays);
      continue;
    }
    plays.push(loadPlay(entry, file, rolePaths, nextId, opts.secrets));
  }
  return { file, dir: dirname(file), plays };
}
