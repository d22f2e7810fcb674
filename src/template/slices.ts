import { TemplateError } from '../core/errors.js';

/**
 * Python's subscript slices (`s[-8:]`, `xs[1:]`, `s[::2]`), which Jinja has and nunjucks does not: the
 * template's `X[a:b:c]` is rewritten to `X[__orch_slice(a, b, c)]` and the lookup of a PySlice key slices.
 */
export class PySlice {
  constructor(
    readonly start: unknown,
    readonly stop: unknown,
    readonly step: unknown,
  ) {}

  /** obj[start:stop:step] as Python computes it for a str or a list (negative and missing bounds, any step). */
  apply(obj: unknown): unknown {
    const items = typeof obj === 'string' ? [...obj] : Array.isArray(obj) ? obj : undefined;
    if (items === undefined)
      throw new TemplateError(`'${obj === null ? 'NoneType' : typeof obj}' object is not subscriptable with a slice`);
    const n = items.length;
    const step = this.step === null || this.step === undefined ? 1 : Number(this.step);
    if (!Number.isInteger(step) || step === 0) throw new TemplateError('slice step cannot be zero');
    const bound = (v: unknown, dflt: number, lo: number, hi: number): number => {
      if (v === null || v === undefined) return dflt;
      const i = Number(v);
      return i < 0 ? Math.max(i + n, lo) : Math.min(i, hi);
    };
    const start = bound(this.start, step > 0 ? 0 : n - 1, step > 0 ? 0 : -1, step > 0 ? n : n - 1);
    const stop = bound(this.stop, step > 0 ? n : -1, step > 0 ? 0 : -1, step > 0 ? n : n - 1);
    const out: unknown[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(items[i]);
    return typeof obj === 'string' ? out.join('') : out;
  }
}

/** Index of the bracket closing the one at `open`, or -1. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '[' || c === '(' || c === '{') depth++;
    else if ((c === ']' || c === ')' || c === '}') && --depth === 0) return i;
  }
  return -1;
}

/** Split `a:b:c` at the colons outside brackets, or null when there is none. */
function sliceParts(inner: string): string[] | null {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '[' || c === '(' || c === '{') depth++;
    else if (c === ']' || c === ')' || c === '}') depth--;
    else if (c === ':' && depth === 0) {
      parts.push(inner.slice(from, i));
      from = i + 1;
    }
  }
  if (parts.length === 0 || parts.length > 2) return null;
  return [...parts, inner.slice(from)];
}

/**
 * Rewrite the slices of one piece of expression text (string literals already cut out by the caller). A `[`
 * is a subscript when a name, a `)` or a `]` comes before it; a list literal is left alone.
 */
export function rewriteSlices(expr: string, afterValue = false): string {
  if (!expr.includes(':') || !expr.includes('[')) return expr;
  let out = '';
  let i = 0;
  while (i < expr.length) {
    const open = expr.indexOf('[', i);
    if (open < 0) break;
    const end = closing(expr, open);
    if (end < 0) break;
    const before = expr.slice(0, open).trimEnd();
    const inner = expr.slice(open + 1, end);
    const parts = /[\w)\]'"]$/.test(before) || (before === '' && afterValue) ? sliceParts(inner) : null;
    out += expr.slice(i, open);
    if (parts) out += `[__orch_slice(${parts.map((p) => (p.trim() === '' ? 'none' : rewriteSlices(p))).join(', ')})]`;
    else out += `[${rewriteSlices(inner)}]`;
    i = end + 1;
  }
  return out + expr.slice(i);
}
