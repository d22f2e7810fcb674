/**
 * Lists and dicts for the filters: any value as a list (as Jinja's list()), set operations that compare by
 * value, dotted attribute paths (map, selectattr, items2dict), and Ansible's combine.
 */
import { isUndefined } from './undefined.js';

export function list(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v === null || isUndefined(v)) return [];
  if (typeof v === 'string') return [...v];
  if (typeof v === 'object') return Object.keys(v as object);
  return [v];
}

export function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

export function uniq(items: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of items) if (!out.some((y) => sameValue(x, y))) out.push(x);
  return out;
}

export function attr(obj: unknown, path: unknown): unknown {
  let cur = obj;
  for (const part of String(path).split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function combine(...dicts: unknown[]): Record<string, unknown> {
  let recursive = false;
  const last = dicts[dicts.length - 1];
  if (last && typeof last === 'object' && !Array.isArray(last) && (last as Record<string, unknown>).__keywords) {
    recursive = Boolean((last as Record<string, unknown>).recursive);
    dicts.pop();
  }
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) {
      const cur = out[k];
      out[k] =
        recursive &&
        cur &&
        v &&
        typeof cur === 'object' &&
        typeof v === 'object' &&
        !Array.isArray(cur) &&
        !Array.isArray(v)
          ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
          : v;
    }
    return out;
  };
  return dicts
    .flat()
    .reduce<Record<string, unknown>>(
      (acc, d) => (d && typeof d === 'object' ? merge(acc, d as Record<string, unknown>) : acc),
      {},
    );
}
