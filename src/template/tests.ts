import { existsSync, statSync } from 'node:fs';
import { pyTruthy } from './python.js';
import { isUndefined } from './undefined.js';

/** Jinja/Ansible tests (`x is defined`, `result is changed`, ...). Registered by environment.ts. */

type Test = (value: unknown, ...args: unknown[]) => boolean;

function field(v: unknown, key: string): unknown {
  return v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
}

function failedResult(v: unknown): boolean {
  return field(v, 'failed') === true || field(v, 'unreachable') === true;
}

function versionParts(v: unknown): (number | string)[] {
  return String(v)
    .split(/[.\-+~]/)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

export function compareVersions(a: unknown, b: unknown): number {
  const x = versionParts(a);
  const y = versionParts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i] ?? 0;
    const q = y[i] ?? 0;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p < q ? -1 : 1;
    return String(p) < String(q) ? -1 : 1;
  }
  return 0;
}

function versionTest(v: unknown, other: unknown, op: unknown = 'eq'): boolean {
  const c = compareVersions(v, other);
  switch (String(op)) {
    case '<':
    case 'lt':
      return c < 0;
    case '<=':
    case 'le':
      return c <= 0;
    case '>':
    case 'gt':
      return c > 0;
    case '>=':
    case 'ge':
      return c >= 0;
    case '!=':
    case 'ne':
      return c !== 0;
    default:
      return c === 0;
  }
}

function regexTest(
  v: unknown,
  pattern: unknown,
  mode: 'search' | 'match' | 'full',
  ignorecase: unknown = false,
): boolean {
  const src = String(pattern).replace(/\(\?P</g, '(?<');
  const re = new RegExp(
    mode === 'search' ? src : mode === 'match' ? `^(?:${src})` : `^(?:${src})$`,
    ignorecase === true ? 'i' : '',
  );
  return re.test(String(v));
}

export const tests: Record<string, Test> = {
  defined: (v) => !isUndefined(v),
  undefined: (v) => isUndefined(v),
  none: (v) => v === null,
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: (v) => Number.isInteger(v),
  float: (v) => typeof v === 'number' && !Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  mapping: (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
  sequence: (v) => Array.isArray(v) || typeof v === 'string',
  iterable: (v) => Array.isArray(v) || typeof v === 'string' || (typeof v === 'object' && v !== null),
  truthy: (v) => pyTruthy(v),
  falsy: (v) => !pyTruthy(v),
  changed: (v) => field(v, 'changed') === true,
  failed: (v) => failedResult(v),
  failure: (v) => failedResult(v),
  succeeded: (v) => !failedResult(v),
  success: (v) => !failedResult(v),
  successful: (v) => !failedResult(v),
  skipped: (v) => field(v, 'skipped') === true,
  reachable: (v) => field(v, 'unreachable') !== true,
  unreachable: (v) => field(v, 'unreachable') === true,
  search: (v, p, ic) => regexTest(v, p, 'search', ic),
  match: (v, p, ic) => regexTest(v, p, 'match', ic),
  regex: (v, p, ic, mt = 'search') => regexTest(v, p, mt === 'match' ? 'match' : 'search', ic),
  version: (v, other, op) => versionTest(v, other, op),
  version_compare: (v, other, op) => versionTest(v, other, op),
  in: (v, seq) =>
    Array.isArray(seq)
      ? seq.includes(v)
      : typeof seq === 'string'
        ? seq.includes(String(v))
        : Boolean(seq && typeof seq === 'object' && String(v) in seq),
  contains: (seq, v) => (Array.isArray(seq) ? seq.includes(v) : String(seq).includes(String(v))),
  all: (v) => (Array.isArray(v) ? v : []).every(pyTruthy),
  any: (v) => (Array.isArray(v) ? v : []).some(pyTruthy),
  subset: (a, b) => Array.isArray(a) && Array.isArray(b) && a.every((x) => b.includes(x)),
  superset: (a, b) => Array.isArray(a) && Array.isArray(b) && b.every((x) => a.includes(x)),
  eq: (a, b) => a === b,
  equalto: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => (a as number) < (b as number),
  gt: (a, b) => (a as number) > (b as number),
  le: (a, b) => (a as number) <= (b as number),
  ge: (a, b) => (a as number) >= (b as number),
  exists: (v) => existsSync(String(v)),
  file: (v) => existsSync(String(v)) && statSync(String(v)).isFile(),
  directory: (v) => existsSync(String(v)) && statSync(String(v)).isDirectory(),
  abs: (v) => String(v).startsWith('/'),
};
