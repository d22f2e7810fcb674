import { existsSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { ParseError, type Position } from '../core/errors.js';
import type { Secrets } from '../core/secrets.js';
import { loadVarsPath, loadYamlFile } from '../yaml/load.js';
import type { Inherited, Item, RoleContext, Task } from './model.js';
import { inherit } from './inherit.js';
import { loadTaskList, loadTasksFile, type LoadContext } from './tasks.js';
import { validationTask } from './argument-specs.js';

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** main.yml, main.yaml, or a main/ directory of files (merged in name order). */
function loadVarsFrom(dir: string, base: string, secrets: Secrets): Dict {
  const p = ['.yml', '.yaml', ''].map((ext) => join(dir, base + ext)).find((c) => existsSync(c));
  return p ? loadVarsPath(p, secrets) : {};
}

function yamlIn(dir: string, base: string): string | undefined {
  return ['.yml', '.yaml', ''].map((e) => join(dir, base + e)).find((p) => existsSync(p) && statSync(p).isFile());
}

/** Keywords a role entry takes as Ansible does (the other keys are role parameters). */
const ROLE_KEYWORDS = [
  'tags',
  'when',
  'become',
  'become_user',
  'become_method',
  'become_flags',
  'become_exe',
  'environment',
  'delegate_to',
  'ignore_errors',
  'ignore_unreachable',
  'no_log',
  'run_once',
  'check_mode',
  'diff',
  'any_errors_fatal',
  'connection',
  'remote_user',
  'port',
  'throttle',
  'timeout',
  'module_defaults',
  'debugger',
  'collections',
  'delegate_facts',
];
const ROLE_SPEC_KEYS = new Set([
  'role',
  'name',
  'vars',
  'tasks_from',
  'vars_from',
  'defaults_from',
  'handlers_from',
  'allow_duplicates',
  'rolespec_validate',
  '_include_role',
  ...ROLE_KEYWORDS,
]);

/** Loads roles for one play: search paths, dependencies (once each), handlers, defaults. */
export class RoleLoader {
  readonly handlers: Task[] = [];
  readonly defaults: Dict = {};
  private readonly seen = new Set<string>();
  private readonly handlerFiles = new Set<string>();
  private readonly chain: string[] = [];

  constructor(private readonly searchPaths: string[]) {}

  findRole(name: string, pos: Position): string {
    const candidates = isAbsolute(name) ? [name] : this.searchPaths.map((p) => resolve(p, name));
    const hit = candidates.find((c) => existsSync(c) && statSync(c).isDirectory());
    if (!hit)
      throw new ParseError(
        `role '${name}' not found (searched ${this.searchPaths.join(', ')})`,
        pos,
        'Check the name, or put the role under roles/.',
      );
    return hit;
  }

  load(specIn: unknown, inh: Inherited, pos: Position, ctx: LoadContext): Item[] {
    const spec: Dict = isDict(specIn) ? specIn : { role: specIn };
    const name = String(spec.role ?? spec.name ?? '');
    if (!name) throw new ParseError('a role entry needs a name (role: NAME)', pos);
    if (this.chain.includes(name))
      throw new ParseError(
        `recursive role dependency: ${[...this.chain, name].join(' -> ')}`,
        pos,
        'Remove the dependency that closes the loop.',
      );
    const path = this.findRole(name, pos);
    const roleParams = Object.fromEntries(Object.entries(spec).filter(([k]) => !ROLE_SPEC_KEYS.has(k)));
    const params: Dict = { ...(isDict(spec.vars) ? spec.vars : {}), ...roleParams };
    const key = `${path}|${JSON.stringify(params)}|${String(spec.tasks_from ?? 'main')}`;
    const meta = yamlIn(join(path, 'meta'), 'main');
    const metaData = meta ? loadYamlFile(meta, ctx.secrets) : null;
    const allowDup =
      spec.allow_duplicates === true ||
      (isDict(metaData) && isDict(metaData.galaxy_info) && metaData.allow_duplicates === true);
    if (this.seen.has(key) && !allowDup) return [];
    this.seen.add(key);

    const role: RoleContext = {
      name: basename(name),
      path,
      defaults: loadVarsFrom(join(path, 'defaults'), String(spec.defaults_from ?? 'main'), ctx.secrets),
      vars: loadVarsFrom(join(path, 'vars'), String(spec.vars_from ?? 'main'), ctx.secrets),
      params,
    };
    for (const [k, v] of Object.entries(role.defaults)) if (!(k in this.defaults)) this.defaults[k] = v;

    this.chain.push(name);
    try {
      const items: Item[] = [];
      const keywords = Object.fromEntries(ROLE_KEYWORDS.filter((k) => spec[k] !== undefined).map((k) => [k, spec[k]]));
      const roleInh = inherit(inh, { ...keywords, vars: { ...role.vars, ...params } }, join(path, 'tasks'), role);
      const deps = isDict(metaData) ? metaData.dependencies : undefined;
      if (deps !== undefined && !Array.isArray(deps))
        throw new ParseError('meta dependencies must be a list', { file: meta ?? path });
      for (const dep of (deps as unknown[] | undefined) ?? [])
        items.push(...this.load(dep, inh, { file: meta ?? path }, ctx));

      const handlersFile = yamlIn(join(path, 'handlers'), String(spec.handlers_from ?? 'main'));
      // a role named twice (include_role, allow_duplicates) keeps one set of handlers: one notification, one run
      if (handlersFile && !this.handlerFiles.has(handlersFile)) {
        this.handlerFiles.add(handlersFile);
        for (const h of loadTasksFile(handlersFile, ctx, { ...roleInh, when: [], tags: [] }, pos)) {
          if (h.kind !== 'task') throw new ParseError('handlers must be tasks, not blocks or includes', h.pos);
          this.handlers.push(h);
        }
      }
      const tasksFile = yamlIn(join(path, 'tasks'), String(spec.tasks_from ?? 'main'));
      if (!tasksFile && spec.tasks_from)
        throw new ParseError(`role '${name}' has no tasks file '${String(spec.tasks_from)}'`, pos);
      // as Ansible: a role with an argument spec for this entry point validates its variables first
      const entry = String(spec.tasks_from ?? 'main');
      const validate = !['false', 'no', 'off', '0', 'n', 'f'].includes(String(spec.rolespec_validate).toLowerCase());
      const check = validate
        ? validationTask(role, entry, roleParams, spec._include_role === true, ctx.secrets)
        : undefined;
      if (check) items.push(...loadTaskList([check.task], { ...ctx, file: check.file }, roleInh));
      if (tasksFile) items.push(...loadTasksFile(tasksFile, ctx, roleInh, pos));
      return items;
    } finally {
      this.chain.pop();
    }
  }
}
