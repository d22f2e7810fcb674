import { existsSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { ParseError, type Position } from '../core/errors.js';
import type { Secrets } from '../core/secrets.js';
import { loadVarsPath, loadYamlFile } from '../yaml/load.js';
import type { Block, Inherited, Item, PlayRoles, RoleContext, Task } from './model.js';
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
export class RoleLoader implements PlayRoles {
  readonly handlers: Task[] = [];
  readonly defaults: Dict = {};
  /** vars of the roles whose vars the play sees (see Play.roleVars), in load order */
  readonly vars: Dict = {};
  /** names of those roles, as Ansible's ansible_play_role_names (play.roles), and of their dependencies */
  readonly names: string[] = [];
  readonly dependencyNames: string[] = [];
  private readonly seen = new Map<string, RoleContext>();
  /** the role the last load() call loaded (or found loaded already): a parent reads its dependencies' defaults */
  private loaded: RoleContext | undefined;
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

  /**
   * exported: the role's vars and defaults are the play's (not those of an include_role without public: yes);
   * 'when-run' (include_role with public: yes): from when its tasks start.
   * inh.role: the role that imports or includes this one, or whose dependency this one is (`dependency`).
   */
  load(
    specIn: unknown,
    inh: Inherited,
    pos: Position,
    ctx: LoadContext,
    exported: boolean | 'when-run' = true,
    dependency = false,
  ): Item[] {
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
    // the entry's `vars:` are role vars (below vars/main.yml, as in Ansible); its other keys are params
    const keywordVars: Dict = isDict(spec.vars) ? spec.vars : {};
    const params: Dict = {};
    for (const [k, v] of Object.entries(spec)) if (!ROLE_SPEC_KEYS.has(k)) params[k] = v;
    const key = `${path}|${JSON.stringify([keywordVars, params])}|${String(spec.tasks_from ?? 'main')}`;
    const meta = yamlIn(join(path, 'meta'), 'main');
    const metaData = meta ? loadYamlFile(meta, ctx.secrets) : null;
    // meta/main.yml's allow_duplicates is a top-level key (beside galaxy_info, which a role need not have)
    const allowDup = spec.allow_duplicates === true || (isDict(metaData) && metaData.allow_duplicates === true);
    const to: PlayRoles = exported === 'when-run' ? { vars: {}, defaults: {}, names: [], dependencyNames: [] } : this;
    if (exported && !dependency) to.names.push(basename(name));
    else if (exported && !to.dependencyNames.includes(basename(name))) to.dependencyNames.push(basename(name));
    const before = this.seen.get(key);
    if (before && !allowDup) {
      this.loaded = before;
      return [];
    }

    // the entry's `vars:` under vars/main.yml, as Ansible's role.get_vars(); what the role sees adds its parent's
    const ownVars = {
      ...keywordVars,
      ...loadVarsFrom(join(path, 'vars'), String(spec.vars_from ?? 'main'), ctx.secrets),
    };
    const parent = inh.role;
    const role: RoleContext = {
      name: basename(name),
      path,
      defaults: loadVarsFrom(join(path, 'defaults'), String(spec.defaults_from ?? 'main'), ctx.secrets),
      vars: { ...parent?.vars, ...ownVars },
      params,
    };
    this.seen.set(key, role);
    const ownDefaults = role.defaults;
    // ansible_parent_role_names: the roles that import or include this one, nearest first (not dependencies)
    if (parent && !dependency) role.parents = [parent.name, ...(parent.parents ?? [])];

    this.chain.push(name);
    try {
      const items: Item[] = [];
      const keywords = Object.fromEntries(ROLE_KEYWORDS.filter((k) => spec[k] !== undefined).map((k) => [k, spec[k]]));
      // the role's vars are a layer of their own (executor/scope.ts), under the vars of enclosing blocks
      const roleInh = inherit(inh, keywords, join(path, 'tasks'), role);
      if (Object.keys(params).length > 0) roleInh.params = { ...inh.params, ...params };
      const deps = isDict(metaData) ? metaData.dependencies : undefined;
      if (deps !== undefined && !Array.isArray(deps))
        throw new ParseError('meta dependencies must be a list', { file: meta ?? path });
      // a dependency sees this role's vars and params under its own (Ansible's dep chain)
      const depInh = { ...inh, role, ...(roleInh.params ? { params: roleInh.params } : {}) };
      // the role's tasks see its dependencies' defaults under its own (Ansible's get_default_vars), also when
      // the play does not (an include_role without public)
      const depDefaults: Dict = {};
      const depVars: Dict = {};
      for (const dep of (deps as unknown[] | undefined) ?? []) {
        items.push(...this.load(dep, depInh, { file: meta ?? path }, ctx, exported, true));
        Object.assign(depDefaults, this.loaded?.defaults);
        Object.assign(depVars, this.loaded?.vars);
      }
      role.defaults = { ...depDefaults, ...ownDefaults };
      // and their vars under its own (Ansible's role.get_vars)
      role.vars = { ...parent?.vars, ...depVars, ...ownVars };
      // the play's roles in order, each after its dependencies: the last one's default or var wins, as in Ansible
      if (exported) Object.assign(to.defaults, ownDefaults);
      if (exported) Object.assign(to.vars, ownVars);

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
        ? validationTask(role, entry, params, spec._include_role === true, ctx.secrets)
        : undefined;
      if (check) items.push(...loadTaskList([check.task], { ...ctx, file: check.file }, roleInh));
      if (tasksFile) items.push(...loadTasksFile(tasksFile, ctx, roleInh, pos));
      return exported === 'when-run' ? [publishing(items, inh, pos, ctx, to)] : items;
    } finally {
      this.chain.pop();
      this.loaded = role;
    }
  }
}

/** A public include_role's tasks, in a block that adds the role to the play when it starts (executor/blocks.ts). */
function publishing(items: Item[], inh: Inherited, pos: Position, ctx: LoadContext, publish: PlayRoles): Block {
  const id = ctx.nextId();
  return {
    ...inh,
    kind: 'block',
    id,
    name: 'block',
    block: items,
    rescue: [],
    always: [],
    pos,
    when: [],
    serial: [],
    publish,
  };
}
