/** The bits of Python that Ansible templates lean on: method names on strings and dicts, and how values print. */

import { PyDatetime } from './datetime.js';

type Fn = (...args: unknown[]) => unknown;

function pyStrip(s: string, chars?: unknown, side: 'both' | 'left' | 'right' = 'both'): string {
  const set = typeof chars === 'string' ? chars : ' \t\n\r\f\v';
  let a = 0;
  let b = s.length;
  if (side !== 'right') while (a < b && set.includes(s[a] as string)) a++;
  if (side !== 'left') while (b > a && set.includes(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

function startsOrEnds(s: string, arg: unknown, ends: boolean): boolean {
  const options = Array.isArray(arg) ? arg.map(String) : [String(arg)];
  return options.some((o) => (ends ? s.endsWith(o) : s.startsWith(o)));
}

export function stringMethod(s: string, name: string): Fn | undefined {
  switch (name) {
    case 'startswith':
      return (p) => startsOrEnds(s, p, false);
    case 'endswith':
      return (p) => startsOrEnds(s, p, true);
    case 'split':
      return (sep, max) => {
        if (sep === undefined || sep === null)
          return s
            .trim()
            .split(/\s+/)
            .filter((x) => x !== '');
        const parts = s.split(String(sep));
        if (typeof max === 'number' && max >= 0 && parts.length > max + 1)
          return [...parts.slice(0, max), parts.slice(max).join(String(sep))];
        return parts;
      };
    case 'strip':
      return (c) => pyStrip(s, c);
    case 'lstrip':
      return (c) => pyStrip(s, c, 'left');
    case 'rstrip':
      return (c) => pyStrip(s, c, 'right');
    case 'lower':
      return () => s.toLowerCase();
    case 'upper':
      return () => s.toUpperCase();
    case 'replace':
      return (a, b) => s.split(String(a)).join(String(b));
    case 'format':
      return (...args) => {
        let i = 0;
        return s.replace(/\{(\d*)\}/g, (_m, n: string) => String(args[n === '' ? i++ : Number(n)]));
      };
    case 'join':
      return (items) => (Array.isArray(items) ? items.map(String).join(s) : '');
    case 'find':
      return (sub) => s.indexOf(String(sub));
    case 'isdigit':
      return () => /^\d+$/.test(s);
    case 'partition':
    case 'rpartition':
      return (sep) => {
        const at = name === 'partition' ? s.indexOf(String(sep)) : s.lastIndexOf(String(sep));
        if (at < 0) return name === 'partition' ? [s, '', ''] : ['', '', s];
        return [s.slice(0, at), String(sep), s.slice(at + String(sep).length)];
      };
    case 'capitalize':
      return () => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
    case 'count':
      return (sub) => (String(sub) === '' ? s.length + 1 : s.split(String(sub)).length - 1);
    case 'zfill':
      return (w) => (/^[-+]/.test(s) ? s[0] + s.slice(1).padStart(Number(w) - 1, '0') : s.padStart(Number(w), '0'));
    case 'isalpha':
      return () => /^[A-Za-z]+$/.test(s);
    case 'isalnum':
      return () => /^[A-Za-z0-9]+$/.test(s);
    case 'splitlines':
      return () => s.split(/\r?\n/).filter((l, i, a) => !(i === a.length - 1 && l === ''));
    default:
      return undefined;
  }
}

export function dictMethod(d: Record<string, unknown>, name: string): Fn | undefined {
  switch (name) {
    case 'get':
      return (k, dflt = null) => (Object.prototype.hasOwnProperty.call(d, String(k)) ? d[String(k)] : dflt);
    case 'items':
      return () => Object.entries(d);
    case 'keys':
      return () => Object.keys(d);
    case 'values':
      return () => Object.values(d);
    default:
      return undefined;
  }
}

/** How Python prints a value: True/False/None, lists as ['a', 1]. */
export function pyRepr(v: unknown, nested = false): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return nested ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : v;
  if (Array.isArray(v)) return `[${v.map((x) => pyRepr(x, true)).join(', ')}]`;
  if (v instanceof PyDatetime) return v.__str__();
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyRepr(k, true)}: ${pyRepr(x, true)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** Python truthiness: empty strings, lists and dicts are false. */
export function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Python's ==: numbers and booleans by value (True == 1), lists and dicts by content, no string/number coercion. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined)
    return (a === null || a === undefined) && (b === null || b === undefined);
  const numeric = (x: unknown) => typeof x === 'number' || typeof x === 'boolean';
  if (numeric(a) && numeric(b)) return Number(a) === Number(b);
  if (Array.isArray(a) || Array.isArray(b))
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  if (typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return (
      ka.length === kb.length &&
      ka.every(
        (k) => k in (b as object) && pyEquals((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
      )
    );
  }
  return false;
}
