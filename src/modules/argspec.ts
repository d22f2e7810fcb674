import { pyEquals, pyTruthy } from '../template/python.js';
import { ConvertError, pyClassName, pyIterate, pyStr, pyType, typeChecker, type Typed } from './argspec-types.js';

/**
 * Ansible 2.14's ArgumentSpecValidator as validate_argument_spec runs it (module_utils/common/parameters.py): the
 * same checks in the same order with the same messages. It only checks: the variables are never changed.
 */

type Dict = Record<string, unknown>;

/** A spec Ansible's validator cannot even read: the task fails with Python's exception text. */
export class SpecCrash extends Error {}

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One dict of parameters being validated, and which of its strings came straight from YAML. */
class Level {
  private readonly plain = new Set<string>();
  constructor(
    readonly values: Dict,
    private readonly yaml: boolean,
  ) {}
  has(k: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.values, k);
  }
  get(k: string): Typed {
    return { value: this.values[k], yaml: this.yaml && !this.plain.has(k) };
  }
  set(k: string, t: Typed): void {
    this.values[k] = t.value;
    if (t.yaml) this.plain.delete(k);
    else this.plain.add(k);
  }
}

interface State {
  errors: string[];
  /** unsupported parameter (a.b for a sub-option) → the supported names printed with it */
  unsupported: Map<string, string>;
}

const found = (msg: string, context: string[]) => (context.length ? `${msg} found in ${context.join(' -> ')}` : msg);
const entries = (spec: Dict) => Object.entries(spec) as [string, Dict][];

/** Python's `set(terms).intersection(parameters)`: a string is one term. */
function countTerms(terms: unknown, level: Level): number {
  const list = Array.isArray(terms) ? terms : isDict(terms) ? Object.keys(terms) : [terms];
  return new Set(list.map((t) => pyStr(t)).filter((t) => level.has(t))).size;
}

const joinStr = (v: unknown) => (Array.isArray(v) ? v : [v]).map(pyStr).join(', ');
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]);

/** Option name → canonical name; copies an alias's value to its option. */
function handleAliases(spec: Dict, level: Level): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of entries(spec)) {
    if (v.default !== undefined && v.default !== null && pyTruthy(v.required))
      throw new ConvertError(`internal error: required and default are mutually exclusive for ${k}`);
    if (v.aliases === undefined || v.aliases === null) continue;
    if (!Array.isArray(v.aliases)) throw new ConvertError('internal error: aliases must be a list or tuple');
    for (const a of v.aliases.map(pyStr)) {
      out[a] = k;
      if (level.has(a)) level.set(k, level.get(a));
    }
  }
  return out;
}

/** Only its failures matter here (_list_no_log_values): a sub-option value that is no dict. */
function checkNoLogValues(spec: Dict, level: Level): void {
  for (const [name, opts] of entries(spec)) {
    if (!isDict(opts.options) || !level.has(name) || level.values[name] == null) continue;
    if (!(opts.type === 'dict' || (opts.type === 'list' && opts.elements === 'dict'))) continue;
    const value = level.get(name);
    const items = Array.isArray(value.value) ? pyIterate(value) : [value];
    for (const item of items) {
      const sub = typeof item.value === 'string' ? typeChecker('dict').check(item) : item;
      if (!isDict(sub.value))
        throw new ConvertError(
          `Value '${pyStr(sub.value)}' in the sub parameter field '${name}' must by a ${pyStr(opts.type)}, not '${pyClassName(sub)}'`,
        );
      checkNoLogValues(opts.options, new Level(sub.value, sub.yaml));
    }
  }
}

function setDefaults(spec: Dict, level: Level, all: boolean): void {
  for (const [name, opts] of entries(spec)) {
    const d = opts.default ?? null;
    if (!level.has(name) && (d !== null || all)) level.set(name, { value: d, yaml: true });
  }
}

function checkTypes(spec: Dict, level: Level, context: string[], errors: string[]): void {
  const where = context.length ? ` found in '${context.join(' -> ')}'` : '';
  for (const [param, opts] of entries(spec)) {
    if (!level.has(param) || level.values[param] === null) continue;
    const value = level.get(param);
    const { check, name } = typeChecker(opts.type);
    try {
      level.set(param, check(value));
      if (opts.elements === undefined || opts.elements === null) continue;
      const converted = level.get(param);
      if (opts.type !== 'list' || !Array.isArray(converted.value))
        errors.push(
          `Invalid type ${name} for option '${pyStr(converted.value)}'${where ? `${where}.` : ''}, elements value check is supported only with 'list' type`,
        );
      const el = typeChecker(opts.elements);
      const valid: unknown[] = [];
      for (const item of pyIterate(converted)) {
        try {
          valid.push(el.check(item).value);
        } catch (err) {
          if (!(err instanceof ConvertError)) throw err;
          errors.push(
            `Elements value for option '${param}'${where} is of type ${pyType(item)} and we were unable to convert to ${el.name}: ${err.message}`,
          );
        }
      }
      level.set(param, { value: valid, yaml: converted.yaml });
    } catch (err) {
      if (!(err instanceof ConvertError)) throw err;
      errors.push(
        `argument '${param}' is of type ${pyType(value)}${where ? `${where}.` : ''} and we were unable to convert to ${name}: ${err.message}`,
      );
    }
  }
}

function checkChoices(spec: Dict, level: Level, context: string[], errors: string[]): void {
  for (const [param, opts] of entries(spec)) {
    const choices = opts.choices;
    if (choices === undefined || choices === null) continue;
    if (!Array.isArray(choices)) {
      errors.push(found(`internal error: choices for argument ${param} are not iterable: ${pyStr(choices)}`, context));
      continue;
    }
    if (!level.has(param)) continue;
    const choicesStr = choices.map(pyStr).join(', ');
    const value = level.values[param];
    const isIn = (x: unknown) => choices.some((c) => pyEquals(c, x));
    if (Array.isArray(value)) {
      const diff = value.filter((x) => !isIn(x));
      if (diff.length)
        errors.push(
          found(`value of ${param} must be one or more of: ${choicesStr}. Got no match for: ${joinStr(diff)}`, context),
        );
    } else if (!isIn(value)) {
      // Python's str(True) of a YAML boolean: back to the one matching choice when there is one
      const bools =
        value === 'False'
          ? ['n', 'no', 'off', '0', 'false', 'f', 0, false]
          : ['y', 'yes', 'on', '1', 'true', 't', 1, true];
      const overlap =
        value === 'False' || value === 'True' ? choices.filter((c) => bools.some((b) => pyEquals(b, c))) : [];
      if (overlap.length !== 1)
        errors.push(found(`value of ${param} must be one of: ${choicesStr}, got: ${pyStr(value)}`, context));
    }
  }
}

/** required_together, required_one_of, required_if, required_by of a dict option (each stops at its first failure). */
function additionalChecks(checks: Dict, level: Level, context: string[], errors: string[]): void {
  const fail = (msg: string) => errors.push(found(msg, context));
  const present = (k: string) => level.has(k) && level.values[k] !== null;
  const together = list(checks.required_together).find((t) => {
    const counts = list(t).map((f) => countTerms(f, level));
    return counts.some((c) => c > 0) && counts.includes(0);
  });
  if (together !== undefined) fail(`parameters are required together: ${joinStr(together)}`);
  const oneOf = list(checks.required_one_of).find((t) => countTerms(t, level) === 0);
  if (oneOf !== undefined) fail(`one of the following is required: ${joinStr(oneOf)}`);
  for (const req of list(checks.required_if)) {
    const [key, val, reqs, anyOf] = list(req) as [unknown, unknown, unknown, unknown];
    const k = pyStr(key);
    if (!level.has(k) || !pyEquals(level.values[k], val)) continue;
    const missing = list(reqs).filter((r) => countTerms(r, level) === 0);
    if (missing.length && missing.length >= (pyTruthy(anyOf) ? list(reqs).length : 0)) {
      fail(
        `${k} is ${pyStr(val)} but ${pyTruthy(anyOf) ? 'any' : 'all'} of the following are missing: ${joinStr(missing)}`,
      );
      break;
    }
  }
  if (isDict(checks.required_by))
    for (const [key, value] of Object.entries(checks.required_by)) {
      if (!present(key)) continue;
      const missing = list(value)
        .map(pyStr)
        .filter((r) => !present(r));
      if (missing.length) {
        fail(`missing parameter(s) required by '${key}': ${missing.join(', ')}`);
        break;
      }
    }
}

/** One level: the options of the spec (or of a dict option) against one dict of values. */
function checkLevel(spec: unknown, level: Level, context: string[], checks: Dict, state: State): void {
  if (context.length > 64) throw new SpecCrash('maximum recursion depth exceeded');
  if (!isDict(spec))
    throw new SpecCrash(`'${pyClassName({ value: spec, yaml: true })}' object has no attribute 'items'`);
  for (const v of Object.values(spec))
    if (!isDict(v)) throw new SpecCrash(`'${pyClassName({ value: v, yaml: true })}' object has no attribute 'get'`);
  const { errors } = state;
  let aliases: Record<string, string> = {};
  let aliasError: string | undefined;
  try {
    aliases = handleAliases(spec, level);
  } catch (err) {
    if (!(err instanceof ConvertError)) throw err;
    aliasError = err.message;
    errors.push(err.message);
  }
  try {
    checkNoLogValues(spec, level);
  } catch (err) {
    if (!(err instanceof ConvertError)) throw err;
    errors.push(err.message);
  }
  const legal = new Set([...Object.keys(aliases), ...Object.keys(spec)]);
  const stray = Object.keys(level.values).filter((k) => !legal.has(k));
  // Ansible's listing of the supported names runs the alias check again: its error comes again, no listing
  if (stray.length && aliasError !== undefined) errors.push(aliasError);
  else {
    const aliasNames = Object.keys(aliases).sort();
    const names = [...legal].filter((k) => !(k in aliases)).sort();
    const supported = names.join(', ') + (aliasNames.length ? ` (${aliasNames.join(', ')})` : '');
    for (const k of stray) state.unsupported.set([...context, k].join('.'), supported);
  }
  const exclusive = list(checks.mutually_exclusive).filter((c) => countTerms(c, level) > 1);
  if (exclusive.length)
    errors.push(
      found(
        `parameters are mutually exclusive: ${exclusive.map((c) => list(c).map(pyStr).join('|')).join(', ')}`,
        context,
      ),
    );
  setDefaults(spec, level, false);
  const missing = entries(spec)
    .filter(([k, v]) => pyTruthy(v.required) && !level.has(k))
    .map(([k]) => k)
    .sort();
  if (missing.length) errors.push(found(`missing required arguments: ${missing.join(', ')}`, context));
  checkTypes(spec, level, context, errors);
  checkChoices(spec, level, context, errors);
  additionalChecks(checks, level, context, errors);
  setDefaults(spec, level, true);
  for (const [param, opts] of entries(spec)) {
    if (!(opts.type === 'dict' || (opts.type === 'list' && opts.elements === 'dict'))) continue;
    const sub = opts.options;
    if (pyTruthy(opts.apply_defaults)) {
      if (sub === undefined || sub === null) continue;
      if (level.values[param] == null) level.set(param, { value: {}, yaml: false });
    } else if (sub === undefined || sub === null || level.values[param] == null) continue;
    const value = level.get(param);
    for (const item of Array.isArray(value.value) ? pyIterate(value) : [value]) {
      if (!isDict(item.value)) {
        errors.push(`value of '${param}' must be of type dict or list of dicts`);
        continue;
      }
      checkLevel(sub, new Level({ ...item.value }, item.yaml), [...context, param], opts, state);
    }
  }
}

/**
 * Validates `provided` against the options of an argument spec. Its strings are taken as Ansible's AnsibleUnicode
 * (what YAML and a template passing a variable through give; a string a template builds is a plain str there).
 * Throws SpecCrash where Ansible's validator itself would crash.
 */
export function validateArgumentSpec(spec: Dict, provided: Dict): string[] {
  const state: State = { errors: [], unsupported: new Map() };
  // each level is a copy: conversions and defaults stay inside the validation
  const level = new Level({ ...provided }, true);
  checkLevel(spec, level, [], {}, state);
  if (state.unsupported.size) {
    const names = [...state.unsupported.keys()].sort();
    const last = [...state.unsupported.values()].pop() as string;
    state.errors.push(`${names.join(', ')}. Supported parameters include: ${last}.`);
  }
  return state.errors;
}
