import { parse } from 'yaml';
import { pyRepr } from '../template/python.js';

/**
 * The type checks of Ansible 2.14's ArgumentSpecValidator (module_utils/common/validation.py), with its messages.
 * A value carries whether it came straight from YAML: Ansible names its strings AnsibleUnicode
 * in its messages, and plain str for strings built by templating or by a conversion.
 */

/** A failed conversion: Python's TypeError/ValueError text. */
export class ConvertError extends Error {}

export interface Typed {
  value: unknown;
  /** the value is the one YAML loaded (not the product of a template or a conversion) */
  yaml: boolean;
}

/** Python's class name of a value: int, AnsibleUnicode, list... */
export function pyClassName(t: Typed): string {
  const v = t.value;
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return t.yaml ? 'AnsibleUnicode' : 'str';
  // templating task arguments rebuilds lists and dicts (plain list/dict) but keeps YAML's strings
  return Array.isArray(v) ? 'list' : 'dict';
}

/** Python's `type(value)` as printed: <class 'int'>, <class 'ansible.parsing.yaml.objects.AnsibleUnicode'>. */
export function pyType(t: Typed): string {
  const name = pyClassName(t);
  return name.startsWith('Ansible') ? `<class 'ansible.parsing.yaml.objects.${name}'>` : `<class '${name}'>`;
}

/** Python's str(): what to_native and %s print. */
export function pyStr(v: unknown): string {
  return pyRepr(v);
}

const TRUE = new Set<unknown>(['y', 'yes', 'on', '1', 'true', 't', 1, true]);
const FALSE = new Set<unknown>(['n', 'no', 'off', '0', 'false', 'f', 0, false]);
// Ansible prints a Python set here: its order changes from one process to the next
const BOOLEANS = "'false', 1, 0, 'y', 'f', 'n', 'off', 't', '0', 'yes', 'true', 'on', '1', 'no'";

function isDict(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const cannot = (t: Typed, what: string): never => {
  throw new ConvertError(`${pyType(t)} cannot be converted to ${what}`);
};

function toBool(t: Typed): boolean {
  const v = t.value;
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string' && typeof v !== 'number') return cannot(t, 'a bool');
  const n = typeof v === 'string' ? v.toLowerCase().trim() : v;
  if (TRUE.has(n)) return true;
  if (FALSE.has(n)) return false;
  throw new ConvertError(`The value '${pyStr(v)}' is not a valid boolean.  Valid booleans include: ${BOOLEANS}`);
}

const PY_INT = /^\s*[+-]?\d+(_\d+)*\s*$/;
const PY_FLOAT = /^\s*[+-]?(((\d+(_\d+)*)?\.?\d+(_\d+)*|\d+(_\d+)*\.)([eE][+-]?\d+)?|inf|infinity|nan)\s*$/i;

/** key=value pairs split as check_type_dict does (quotes group, a backslash escapes). */
function keyValues(text: string): Record<string, unknown> {
  const fields: string[] = [];
  let buf = '';
  let quote: string | false = false;
  let escape = false;
  for (const c of text.trim()) {
    if (escape) {
      buf += c;
      escape = false;
    } else if (c === '\\') escape = true;
    else if (!quote && (c === "'" || c === '"')) quote = c;
    else if (quote && quote === c) quote = false;
    else if (!quote && (c === ',' || c === ' ')) {
      if (buf) fields.push(buf);
      buf = '';
    } else buf += c;
  }
  if (buf) fields.push(buf);
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const eq = f.indexOf('=');
    // Python's dict() of a one-element split: "ValueError: dictionary update sequence element..."
    if (eq < 0) throw new ConvertError(`dictionary update sequence element #0 has length 1; 2 is required`);
    out[f.slice(0, eq)] = f.slice(eq + 1);
  }
  return out;
}

function toDict(t: Typed): Typed {
  const v = t.value;
  if (isDict(v)) return t;
  if (typeof v !== 'string') return cannot(t, 'a dict');
  if (v.startsWith('{')) {
    try {
      return { value: JSON.parse(v) as unknown, yaml: false };
    } catch {
      // Ansible's safe_eval of a Python literal; a YAML flow mapping reads the same text
      try {
        const d: unknown = parse(v);
        if (isDict(d)) return { value: d, yaml: false };
      } catch {
        /* not a literal either */
      }
      throw new ConvertError('unable to evaluate string as dictionary');
    }
  }
  if (v.includes('=')) return { value: keyValues(v), yaml: false };
  throw new ConvertError('dictionary requested, could not parse JSON or key=value');
}

const SIZES: Record<string, number> = { Y: 2 ** 80, Z: 2 ** 70, E: 2 ** 60, P: 2 ** 50, T: 2 ** 40 };
Object.assign(SIZES, { G: 2 ** 30, M: 2 ** 20, K: 2 ** 10, B: 1 });

/** human_to_bytes: '2K' → 2048; with bits, units end in b ('1Mb'). */
function humanToBytes(t: Typed, bits: boolean): number {
  const fail = () => cannot(t, bits ? 'a Bit value' : 'a Byte value');
  const m = /^\s*(\d*\.?\d*)\s*([A-Za-z]+)?/.exec(pyStr(t.value));
  const digits = m?.[1] ?? '';
  if (!/\d/.test(digits)) return fail();
  const num = Number(digits);
  const unit = m?.[2];
  if (unit === undefined) return Math.round(num);
  const limit = SIZES[unit.charAt(0).toUpperCase()];
  if (limit === undefined) return fail();
  const [cls, clsName] = bits ? ['b', 'bit'] : ['B', 'byte'];
  if (unit.length > 1 && !unit.toLowerCase().includes(clsName) && unit.charAt(1) !== cls) return fail();
  return Math.round(num * limit);
}

/** The checkers by type name; a type Ansible does not know has none ("'NoneType' object is not callable"). */
const CHECKERS: Record<string, (t: Typed) => Typed> = {
  str: (t) => (typeof t.value === 'string' ? t : { value: pyStr(t.value), yaml: false }),
  path: (t) => (typeof t.value === 'string' ? t : { value: pyStr(t.value), yaml: false }),
  raw: (t) => t,
  list: (t) => {
    const v = t.value;
    if (Array.isArray(v)) return t;
    if (typeof v === 'string') return { value: v.split(','), yaml: false };
    if (typeof v === 'number' || typeof v === 'boolean') return { value: [pyStr(v)], yaml: false };
    return cannot(t, 'a list');
  },
  dict: toDict,
  bool: (t) => ({ value: toBool(t), yaml: false }),
  int: (t) => {
    const v = t.value;
    if (typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v))) return t;
    if (typeof v === 'string' && PY_INT.test(v)) return { value: Number(v.replace(/_/g, '')), yaml: false };
    return cannot(t, 'an int');
  },
  float: (t) => {
    const v = t.value;
    if (typeof v === 'number') return t;
    if (typeof v === 'boolean') return { value: Number(v), yaml: false };
    if (typeof v === 'string' && PY_FLOAT.test(v)) return { value: Number(v.replace(/_/g, '')), yaml: false };
    return cannot(t, 'a float');
  },
  jsonarg: (t) => {
    const v = t.value;
    if (typeof v === 'string') return { value: v.trim(), yaml: false };
    if (typeof v === 'object' && v !== null) return { value: JSON.stringify(v), yaml: false };
    return cannot(t, 'a json string');
  },
  bytes: (t) => ({ value: humanToBytes(t, false), yaml: false }),
  bits: (t) => ({ value: humanToBytes(t, true), yaml: false }),
};
CHECKERS.json = CHECKERS.jsonarg as (t: Typed) => Typed;

/** The checker for a spec's `type` (none: str) and the name messages give it. */
export function typeChecker(wanted: unknown): { check: (t: Typed) => Typed; name: string } {
  const name = wanted === undefined || wanted === null ? 'str' : pyStr(wanted);
  const known = typeof wanted === 'string' || wanted === undefined || wanted === null;
  const check = known && Object.prototype.hasOwnProperty.call(CHECKERS, name) ? CHECKERS[name] : undefined;
  return {
    name,
    check:
      check ??
      (() => {
        throw new ConvertError("'NoneType' object is not callable");
      }),
  };
}

/** What Python iterates over in a value (a str: its characters; a dict: its keys). */
export function pyIterate(t: Typed): Typed[] {
  const v = t.value;
  if (Array.isArray(v)) return v.map((x) => ({ value: x, yaml: t.yaml }));
  if (typeof v === 'string') return [...v].map((c) => ({ value: c, yaml: false }));
  if (isDict(v)) return Object.keys(v).map((k) => ({ value: k, yaml: t.yaml }));
  throw new ConvertError(`'${pyClassName(t)}' object is not iterable`);
}
