import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ModuleError, ParseError, type Position } from '../core/errors.js';
import { findModule, modules, resolveModuleName } from '../modules/registry.js';
import type { Secrets } from '../core/secrets.js';
import { declaredNames, registerNoLogValues, suggest, validateParams } from '../modules/spec.js';
import { ansibleModule } from './ansible-known.js';
import { ANSIBLE_LOOKUPS, ANSIBLE_TASK_KEYWORDS } from './ansible-names.js';
import { TASK_KEYWORDS_NOT_IMPLEMENTED } from './keywords.js';
import { keyPosition } from '../yaml/load.js';
import { ARGS_TEMPLATE, containsTemplate, isArgsTemplate, parseFreeForm, parseKeyValueArgs } from './args.js';
import type { Inherited, LoopControl, LoopSpec } from './model.js';
import type { LoadContext } from './tasks.js';

type Dict = Record<string, unknown>;

export const TASK_KEYWORDS = new Set([
  'name',
  'when',
  'loop',
  'loop_control',
  'register',
  'notify',
  'changed_when',
  'failed_when',
  'ignore_errors',
  'ignore_unreachable',
  'tags',
  'become',
  'become_user',
  'become_method',
  'become_flags',
  'delegate_to',
  'delegate_facts',
  'run_once',
  'block',
  'rescue',
  'always',
  'check_mode',
  'diff',
  'no_log',
  'environment',
  'vars',
  'args',
  'action',
  'local_action',
  'until',
  'retries',
  'delay',
  'listen',
  'any_errors_fatal',
  'throttle',
  'timeout',
  'collections',
  'debugger',
  'module_defaults',
  'connection',
  'port',
  'remote_user',
  // Ansible keywords orch does not implement: refused when a host reaches the task (keywords.ts)
  ...Object.keys(TASK_KEYWORDS_NOT_IMPLEMENTED),
]);
/** Ansible's task keywords orch does not list (a unit test keeps this empty: such a key would be read as a module). */
export function missingTaskKeywords(): string[] {
  return ANSIBLE_TASK_KEYWORDS.filter(
    (k) => !TASK_KEYWORDS.has(k) && !['loop_with', 'async_val', 'with_<lookup>'].includes(k),
  );
}

export const INCLUDE_ACTIONS = new Set(['import_tasks', 'include_tasks', 'include', 'import_role', 'include_role']);

/* Parts of one task read at load: loops, the module and its arguments, the check against Ansible's names. */

export function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

export function strings(v: unknown): string[] {
  return asList(v)
    .flatMap((x) => String(x).split(','))
    .map((s) => s.trim())
    .filter((s) => s);
}

export const LOOP_KINDS = [
  'items',
  'dict',
  'together',
  'sequence',
  'fileglob',
  'list',
  'indexed_items',
  'nested',
  'subelements',
  'first_found',
  'flattened',
];

/** with_NAME's lookup name without its collection prefix (ansible.builtin.items, community.general.flattened). */
export const loopKindOf = (withKey: string): string =>
  withKey
    .slice(5)
    .replace(/^ansible\.(builtin|legacy)\./, '')
    .replace(/^community\.general\.(?=flattened$)/, '');
export const ANSIBLE_LOOKUP_NAMES = new Set(ANSIBLE_LOOKUPS);

/**
 * with_NAME where NAME is a lookup Ansible has and orch does not: the task fails when a host reaches it;
 * a NAME Ansible does not know either is a load error.
 */
export function lookupNotImplemented(e: Dict, pos: Position): string[] {
  const k = Object.keys(e).find((x) => x.startsWith('with_'));
  if (!k) return [];
  const kind = loopKindOf(k);
  if (LOOP_KINDS.includes(kind)) return [];
  if (ANSIBLE_LOOKUP_NAMES.has(k.slice(5))) return [k];
  const guess = suggest(kind, LOOP_KINDS);
  throw new ParseError(
    `'${k}' is not a lookup Ansible knows${guess ? ` (did you mean 'with_${guess}'?)` : ''}`,
    keyPosition(e, k) ?? pos,
    `orch runs: ${LOOP_KINDS.map((x) => `with_${x}`).join(', ')}, loop.`,
  );
}

export function parseLoop(e: Dict, pos: Position): LoopSpec | undefined {
  const withKeys = Object.keys(e).filter((k) => k.startsWith('with_'));
  if (e.loop !== undefined && withKeys.length > 0)
    throw new ParseError(`use either loop or ${withKeys[0]}, not both`, pos);
  if (e.loop !== undefined) return { kind: 'loop', value: e.loop };
  const k = withKeys[0];
  if (!k) return undefined;
  const kind = loopKindOf(k);
  // a lookup orch lacks: no loop here, the task is refused when reached (lookupNotImplemented)
  if (!LOOP_KINDS.includes(kind)) return undefined;
  return { kind: kind as LoopSpec['kind'], value: e[k] };
}

/** A module shipped in the role's (or the playbook's) library/ directory: Ansible runs it, orch cannot. */
export function libraryModule(name: string, inh: Inherited, ctx: LoadContext): boolean {
  const dirs = [
    ...(inh.role ? [join(inh.role.path, 'library')] : []),
    join(dirname(ctx.file), 'library'),
    join(inh.dir, 'library'),
  ];
  return dirs.some((d) => ['.py', '.sh', '.ps1', ''].some((ext) => existsSync(join(d, name + ext))));
}

export function parseLoopControl(v: unknown, pos: Position): LoopControl | undefined {
  if (v === undefined) return undefined;
  if (!isDict(v)) throw new ParseError('loop_control must be a mapping', pos);
  for (const key of Object.keys(v)) {
    if (!['loop_var', 'index_var', 'label', 'pause', 'extended', 'extended_allitems'].includes(key)) {
      throw new ParseError(
        `unknown loop_control key '${key}'`,
        keyPosition(v, key) ?? pos,
        'Known: loop_var, index_var, label, pause, extended, extended_allitems.',
      );
    }
  }
  return {
    loop_var: String(v.loop_var ?? 'item'),
    index_var: v.index_var === undefined ? undefined : String(v.index_var),
    label: v.label === undefined ? undefined : String(v.label),
    pause: v.pause === undefined ? undefined : Number(v.pause),
    extended: v.extended === true,
    extended_allitems: v.extended_allitems !== false,
  };
}

/** Find the one key that names the module, or `action:`. */
export function moduleOf(e: Dict, pos: Position): { name: string; raw: unknown; key: string } {
  if (e.action !== undefined || e.local_action !== undefined) {
    const key = e.action !== undefined ? 'action' : 'local_action';
    const v = e[key];
    if (isDict(v)) {
      const { module, ...rest } = v;
      return { name: String(module), raw: rest, key };
    }
    const [name = '', ...rest] = String(v).trim().split(/\s+/);
    return { name, raw: rest.join(' '), key };
  }
  const candidates = Object.keys(e).filter((k) => !TASK_KEYWORDS.has(k) && !k.startsWith('with_'));
  if (candidates.length === 0)
    throw new ParseError('this task names no module', pos, 'Add one, e.g. `command: ...` or `copy: ...`.');
  if (candidates.length > 1) {
    const unknown = candidates.find(
      (c) => !findModule(c) && !ansibleModule(c) && !INCLUDE_ACTIONS.has(resolveModuleName(c)),
    );
    if (unknown) {
      const guess = suggest(unknown, [...TASK_KEYWORDS, ...modules.keys()]);
      throw new ParseError(
        `unknown keyword or module '${unknown}'${guess ? ` (did you mean '${guess}'?)` : ''}`,
        keyPosition(e, unknown) ?? pos,
      );
    }
    throw new ParseError(
      `conflicting action statements: ${candidates.join(', ')}`,
      pos,
      'A task runs one module; split it into several tasks.',
    );
  }
  const key = candidates[0] as string;
  return { name: key, raw: e[key], key };
}

export function moduleArgs(name: string, raw: unknown, extra: unknown, pos: Position): Dict {
  const mod = findModule(name);
  let args: Dict;
  if (raw === null || raw === undefined) args = {};
  else if (isDict(raw)) args = { ...raw };
  else if (isArgsTemplate(raw) && mod?.spec.freeForm === undefined) args = { [ARGS_TEMPLATE]: raw };
  else if (typeof raw === 'string' || typeof raw === 'number') {
    const text = String(raw);
    args =
      mod?.spec.freeForm === '_raw_params' && mod.name !== 'include_vars'
        ? parseFreeForm(text, '_raw_params')
        : mod?.name === 'meta'
          ? { _raw_params: text.trim() }
          : parseKeyValueArgs(text);
    if (mod?.name === 'include_vars' && args._raw_params === undefined && Object.keys(args).length === 0)
      args = { _raw_params: text };
  } else throw new ParseError(`arguments of '${name}' must be a mapping or k=v text`, pos);
  if (isDict(extra)) args = { ...extra, ...args };
  else if (isArgsTemplate(extra)) args = { [ARGS_TEMPLATE]: extra, ...args };
  return args;
}

/**
 * Parameter names Ansible does not know for this module are refused here (typos, with a suggestion);
 * names Ansible knows and orch does not implement are left for the executor, which fails the task when a
 * host reaches it. Values are checked where they are literal.
 */
export function validateAtLoad(
  rawName: string,
  name: string,
  args: Dict,
  pos: Position,
  argsMap: unknown,
  conditional: boolean,
  secrets: Secrets,
): void {
  const mod = findModule(name);
  const ansible = ansibleModule(rawName) ?? ansibleModule(name);
  const orchNames = mod && !mod.spec.anyParams ? declaredNames(mod.spec) : undefined;
  if (!mod || orchNames) {
    const known = new Set([...(orchNames ?? []), ...(ansible?.params ?? [])]);
    for (const key of Object.keys(args)) {
      if (orchNames?.has(key) || ansible?.params === undefined || ansible.params.has(key)) continue;
      // a task behind a condition may be meant for another Ansible version (a parameter newer than 2.14):
      // as in Ansible, it fails only when a host reaches it (with the same suggestion)
      if (conditional) continue;
      const guess = suggest(
        key,
        [...known].filter((k) => !k.startsWith('_')),
      );
      throw new ParseError(
        `${mod?.name ?? rawName}: unsupported parameter '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}`,
        keyPosition(argsMap, key) ?? pos,
        mod
          ? `Supported parameters: ${Object.keys(mod.spec.params)
              .filter((k) => !k.startsWith('_'))
              .sort()
              .join(', ')}.`
          : `Parameters Ansible knows for it: ${[...known]
              .filter((k) => !k.startsWith('_'))
              .sort()
              .join(', ')}.`,
      );
    }
  }
  if (!mod || mod.spec.anyParams) return;
  const implemented = Object.fromEntries(Object.entries(args).filter(([k]) => orchNames?.has(k)));
  try {
    // a literal no_log value (a password) is a secret from now on: in messages of load errors too
    registerNoLogValues(mod.spec, implemented, secrets, (v) => !containsTemplate(v));
    validateParams(mod.name, mod.spec, implemented, (v) => !containsTemplate(v), true);
  } catch (err) {
    if (!(err instanceof ModuleError)) throw err;
    const badKey = /parameter '([^']+)'/.exec(err.message)?.[1];
    const at = (badKey && keyPosition(argsMap, badKey)) || pos;
    throw new ParseError(err.message, at, err.hint);
  }
}
