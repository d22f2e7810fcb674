import { ModuleError, NotImplementedError } from '../core/errors.js';
import { ModuleFailure } from './types.js';
import type { Secrets } from '../core/secrets.js';

/** Declared parameters of a module, validated in one place (at load time where values are literal). */

export type ParamType = 'str' | 'bool' | 'int' | 'float' | 'path' | 'list' | 'dict' | 'raw' | 'mode';

/**
 * Whether orch does what Ansible does with a parameter. Every parameter says so (a unit test walks every
 * spec): 'full' works as in Ansible; 'partial' works for some values and the module refuses the others when
 * it runs (note says which); 'none' is accepted by name only, and a task setting it to anything but its
 * default fails when a host reaches the task.
 */
export type Support = 'full' | 'partial' | 'none';

export interface ParamSpec {
  type: ParamType;
  support: Support;
  /** partial/none: what orch lacks (shown in the failure) */
  note?: string;
  required?: boolean;
  default?: unknown;
  choices?: readonly unknown[];
  aliases?: readonly string[];
  /** element type of a list */
  elements?: ParamType;
  /** never printed (passwords) */
  noLog?: boolean;
}

export interface ModuleSpec {
  params: Record<string, ParamSpec>;
  mutuallyExclusive?: readonly (readonly string[])[];
  requiredOneOf?: readonly (readonly string[])[];
  /** Where `module: free text` goes (command/shell: _raw_params). */
  freeForm?: string;
  /** Any parameter names are accepted as they are (set_fact: the names are variables). */
  anyParams?: boolean;
}

export type Params = Record<string, unknown>;

function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The closest known name, for "did you mean" hints. */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(name.toLowerCase(), k.toLowerCase());
    if (dist < bestD) {
      best = k;
      bestD = dist;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

const TRUE = ['yes', 'on', '1', 'true', 'y', 't'];
const FALSE = ['no', 'off', '0', 'false', 'n', 'f', ''];

/** One value checked and converted as a parameter of this type (for a module that checks a parameter late). */
export function coerceParam(name: string, type: ParamType, value: unknown): unknown {
  return coerce(name, type, value);
}

function coerce(name: string, type: ParamType, value: unknown, elements?: ParamType): unknown {
  const bad = (want: string): never => {
    throw new ModuleError(`parameter '${name}' must be ${want}, got ${JSON.stringify(value)}`);
  };
  switch (type) {
    case 'raw':
      return value;
    case 'str':
    case 'path':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean')
        return type === 'str' ? String(value) : bad('a path');
      return bad('a string');
    case 'bool': {
      if (typeof value === 'boolean') return value;
      const s = String(value).toLowerCase();
      if (TRUE.includes(s)) return true;
      if (FALSE.includes(s)) return false;
      return bad('a boolean (yes/no)');
    }
    case 'int': {
      const n = typeof value === 'number' ? value : /^-?\d+$/.test(String(value).trim()) ? Number(value) : NaN;
      return Number.isInteger(n) ? n : bad('an integer');
    }
    case 'float': {
      const n = Number(value);
      return Number.isFinite(n) ? n : bad('a number');
    }
    case 'mode':
      // YAML 1.1 already turned 0644 into 420; strings stay as written ('0644', 'u+x').
      if (typeof value === 'number') return value.toString(8).padStart(4, '0');
      if (typeof value === 'string' && /^(0?[0-7]{3,4}|[ugoa]*[-+=][rwxXst]*(,[ugoa]*[-+=][rwxXst]*)*)$/.test(value))
        return value;
      return bad("a mode ('0644', 0644 or u+rwx)");
    case 'list': {
      const items = Array.isArray(value)
        ? value
        : typeof value === 'string'
          ? value
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s)
          : [value];
      return elements ? items.map((x, i) => coerce(`${name}[${i}]`, elements, x)) : items;
    }
    case 'dict':
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
      return bad('a mapping');
  }
}

/** What validation reads of a spec, worked out once per spec: it validates every task on every host. */
interface SpecIndex {
  params: [string, ParamSpec][];
  /** names and aliases */
  declared: ReadonlySet<string>;
  /** accepted by name only (support 'none'), with the keys they may be given under */
  byNameOnly: { name: string; p: ParamSpec; keys: string[] }[];
  /** the keys of no_log parameters (names and aliases) */
  noLogKeys: string[];
  required: string[];
}

const indexes = new WeakMap<ModuleSpec, SpecIndex>();

function indexOf(spec: ModuleSpec): SpecIndex {
  let index = indexes.get(spec);
  if (index) return index;
  const params = Object.entries(spec.params);
  const keysOf = (name: string, p: ParamSpec) => [name, ...(p.aliases ?? [])];
  index = {
    params,
    declared: new Set(params.flatMap(([name, p]) => keysOf(name, p))),
    byNameOnly: params.filter(([, p]) => p.support === 'none').map(([name, p]) => ({ name, p, keys: keysOf(name, p) })),
    noLogKeys: params.filter(([, p]) => p.noLog).flatMap(([name, p]) => keysOf(name, p)),
    required: params.filter(([, p]) => p.required).map(([name]) => name),
  };
  indexes.set(spec, index);
  return index;
}

/** The parameter names and aliases a spec declares. */
export function declaredNames(spec: ModuleSpec): ReadonlySet<string> {
  return indexOf(spec).declared;
}

/**
 * Keys the spec does not declare. At load, the caller first refused the ones Ansible does not know (typos);
 * what is left here is known to Ansible and not implemented by orch: an error when a host reaches the task.
 */
export function checkParamNames(module: string, spec: ModuleSpec, params: Params): void {
  const known = declaredNames(spec);
  for (const key of Object.keys(params)) {
    if (known.has(key)) continue;
    const guess = suggest(
      key,
      [...known].filter((k) => !k.startsWith('_')),
    );
    throw new NotImplementedError(
      `${module}: parameter '${key}' is not implemented by orch${guess ? ` (did you mean '${guess}'?)` : ''}`,
      {
        hint: `orch implements: ${[...Object.keys(spec.params)]
          .filter((k) => !k.startsWith('_'))
          .sort()
          .join(', ')}.`,
      },
    );
  }
}

/** A parameter orch accepts by name only (support 'none'), set to something else than its default. */
export function unsupportedParam(module: string, spec: ModuleSpec, params: Params): void {
  for (const { name, p, keys } of indexOf(spec).byNameOnly) {
    const value = keys.map((k) => params[k]).find((v) => v !== undefined && v !== null);
    if (value === undefined) continue;
    let same: boolean;
    try {
      same =
        p.default !== undefined &&
        JSON.stringify(coerce(name, p.type, value, p.elements)) === JSON.stringify(p.default);
    } catch {
      same = false;
    }
    if (!same)
      throw new NotImplementedError(
        `${module}: parameter '${name}' is not implemented by orch${p.note ? ` (${p.note})` : ''}`,
      );
  }
}

/**
 * The values of no_log parameters (a password, under its name or an alias) registered as secrets: they never reach
 * an output (results, diffs, messages, events). At load only literal values (`isLiteral`); at run time, rendered.
 */
export function registerNoLogValues(
  spec: ModuleSpec,
  input: Params,
  secrets: Secrets,
  isLiteral: (v: unknown) => boolean = () => true,
): void {
  if (spec.anyParams) return;
  for (const key of indexOf(spec).noLogKeys) {
    const v = input[key];
    if (v !== undefined && v !== null && isLiteral(v)) secrets.register(v);
  }
}

/**
 * Full validation of rendered parameters: aliases, types, choices, defaults; when not at load, required and
 * exclusions too.
 */
export function validateParams(
  module: string,
  spec: ModuleSpec,
  input: Params,
  isLiteral: (v: unknown) => boolean = () => true,
  atLoad = false,
): Params {
  if (spec.anyParams) return { ...input };
  checkParamNames(module, spec, input);
  if (!atLoad) unsupportedParam(module, spec, input);
  const out: Params = {};
  for (const [name, p] of indexOf(spec).params) {
    let value: unknown = input[name];
    for (const a of p.aliases ?? []) if (value === undefined && input[a] !== undefined) value = input[a];
    if (value === undefined || value === null) {
      if (p.default !== undefined) out[name] = p.default;
      continue;
    }
    if (!isLiteral(value)) {
      out[name] = value;
      continue;
    }
    try {
      value = coerce(name, p.type, value, p.elements);
    } catch (err) {
      throw new ModuleError(`${module}: ${(err as Error).message}`);
    }
    if (p.choices && !p.choices.includes(value)) {
      const guess = suggest(String(value), p.choices.map(String));
      throw new ModuleError(
        `${module}: parameter '${name}' must be one of ${p.choices.map(String).join(', ')}, got '${String(value)}'${guess ? ` (did you mean '${guess}'?)` : ''}`,
      );
    }
    out[name] = value;
  }
  // Ansible checks these when the module runs (a task that sets none of them fails when reached, with its message)
  if (atLoad) return out;
  for (const group of spec.mutuallyExclusive ?? []) {
    const set = group.filter((k) => input[k] !== undefined && input[k] !== null);
    if (set.length > 1) throw new ModuleFailure(`parameters are mutually exclusive: ${set.join('|')}`);
  }
  for (const group of spec.requiredOneOf ?? []) {
    if (!group.some((k) => out[k] !== undefined))
      throw new ModuleFailure(`one of the following is required: ${group.join(', ')}`);
  }
  const missing = indexOf(spec).required.filter((name) => out[name] === undefined);
  if (missing.length > 0) throw new ModuleFailure(`missing required arguments: ${missing.sort().join(', ')}`);
  return out;
}
