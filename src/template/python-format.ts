/**
 * Values written out as Python writes them, for the filters and the `%` operator: json.dumps as Ansible's
 * to_json and to_nice_json call it, `%` formatting (the format filter), and type names (type_debug).
 */
import { pyRepr } from './python.js';

const asciiJson = (v: unknown): string =>
  (JSON.stringify(v) ?? 'null').replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
/** Python's json.dumps as Ansible's to_json calls it: ', ' and ': ' separators, non-ASCII escaped. */
export function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${asciiJson(k)}: ${pyJson(x)}`)
      .join(', ')}}`;
  return asciiJson(v ?? null);
}
export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** Python's `%` formatting for the format filter: %s %r %d %i %f %x %o %e %%, with flags, width and precision. */
export function pyFormat(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(
    /%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdifrxXoeE%])/g,
    (_m, flags: string, width: string, prec: string | undefined, conv: string) => {
      if (conv === '%') return '%';
      const a = args[i++];
      let out: string;
      if (conv === 's') out = pyRepr(a);
      else if (conv === 'r') out = pyRepr(a, true);
      else if (conv === 'd' || conv === 'i') out = String(Math.trunc(Number(a)));
      else if (conv === 'f') out = Number(a).toFixed(prec === undefined ? 6 : Number(prec));
      else if (conv === 'e' || conv === 'E')
        out = Number(a)
          .toExponential(prec === undefined ? 6 : Number(prec))
          .replace(/e([+-])(\d)$/, 'e$10$2');
      else out = Math.trunc(Number(a)).toString(conv === 'o' ? 8 : 16);
      if (conv === 'X' || conv === 'E') out = out.toUpperCase();
      if (conv === 's' && prec !== undefined) out = out.slice(0, Number(prec));
      const w = Number(width || 0);
      if (flags.includes('-')) return out.padEnd(w);
      if (flags.includes('0') && conv !== 's')
        return out.startsWith('-') ? `-${out.slice(1).padStart(w - 1, '0')}` : out.padStart(w, '0');
      return out.padStart(w);
    },
  );
}

/** Python's type name, as type_debug prints it. */
export function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return Array.isArray(v) ? 'list' : 'dict';
}
