import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ModuleError } from '../core/errors.js';
import type { ModuleResult } from '../core/result.js';
import { globToRegExp } from '../core/glob.js';
import type { LoopSpec, Task } from '../playbook/model.js';
import { renderValue } from '../template/env.js';
import { firstFound, type LoopLookup } from '../template/lookups.js';
import type { VarScope } from '../template/scope.js';

function asList(v: unknown, what: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (v === null || v === undefined) return [];
  if (typeof v === 'string' && what === 'with_items') return [v];
  throw new ModuleError(`${what} needs a list, got ${typeof v === 'object' ? 'a mapping' : JSON.stringify(v)}`, {
    hint: what === 'loop' ? 'For a dict, use `loop: "{{ mydict | dict2items }}"`.' : undefined,
  });
}

/** with_fileglob: wildcards in the file name part only, files only (as Ansible). */
function globFiles(pattern: string): string[] {
  const dir = dirname(pattern);
  if (!existsSync(dir)) return [];
  const re = globToRegExp(basename(pattern), { classes: true }); // Python's glob: `[...]` is a class
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

function sequence(spec: string): string[] {
  const kv: Record<string, string> = {};
  const short = /^(\d+)-(\d+)(?:\/(\d+))?(?::(.*))?$/.exec(spec.trim());
  if (short) Object.assign(kv, { start: short[1], end: short[2], stride: short[3] ?? '1', format: short[4] ?? '%d' });
  else
    for (const part of spec.trim().split(/\s+/)) {
      const [k, v] = part.split('=');
      if (k && v !== undefined) kv[k] = v;
    }
  const start = Number(kv.start ?? 1);
  const stride = Number(kv.stride ?? 1);
  const end = kv.count !== undefined ? start + (Number(kv.count) - 1) * stride : Number(kv.end ?? start);
  const out: string[] = [];
  for (let i = start; stride > 0 ? i <= end : i >= end; i += stride) {
    out.push(
      (kv.format ?? '%d').replace(/%0?(\d*)[dx]/, (m, w: string) =>
        (m.endsWith('x') ? i.toString(16) : String(i)).padStart(Number(w || 0), m.includes('%0') ? '0' : ' '),
      ),
    );
    if (out.length > 100_000) throw new ModuleError('with_sequence: more than 100000 items');
  }
  return out;
}

/** The items of a task's loop on one host (with_* forms turned into a plain list, as Ansible does). */
export function expandLoop(loop: LoopSpec, scope: VarScope): unknown[] {
  const v = renderValue(loop.value, scope);
  switch (loop.kind) {
    case 'loop':
      return asList(v, 'loop');
    case 'items':
      return asList(v, 'with_items').flatMap((x) => (Array.isArray(x) ? x : [x]));
    case 'list':
      return asList(v, 'with_list');
    case 'indexed_items':
      return asList(v, 'with_indexed_items').map((x, i) => [i, x]);
    case 'dict':
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ModuleError('with_dict needs a mapping');
      return Object.entries(v as Record<string, unknown>).map(([key, value]) => ({ key, value }));
    case 'together': {
      const lists = asList(v, 'with_together').map((l) => asList(l, 'with_together'));
      const n = Math.max(0, ...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => l[i] ?? null));
    }
    case 'flattened': {
      // community.general.flattened: lists inside lists, to any depth, as one list (None dropped)
      const flat = (x: unknown): unknown[] =>
        Array.isArray(x) ? x.flatMap(flat) : x === null || x === undefined ? [] : [x];
      return flat(v);
    }
    case 'nested': {
      const lists = asList(v, 'with_nested').map((l) => asList(l, 'with_nested'));
      return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((a) => l.map((x) => [...a, x])), [[]]);
    }
    case 'sequence':
      return sequence(String(v));
    case 'fileglob':
      return asList(v, 'with_fileglob').flatMap((pattern) => {
        const p = String(pattern);
        const base = p.startsWith('/') ? [''] : scope.lookupPaths;
        for (const dir of base) {
          const hits = globFiles(dir ? `${dir}/${p}` : p);
          if (hits.length > 0) return hits;
        }
        return [];
      });
    case 'first_found':
      return firstFound(asList(v, 'with_first_found'), scope.lookupPaths);
    case 'subelements': {
      const [list, key] = asList(v, 'with_subelements');
      return asList(list, 'with_subelements').flatMap((el) =>
        asList((el as Record<string, unknown>)[String(key)], 'with_subelements').map((sub) => [el, sub]),
      );
    }
  }
}

/** lookup('dict', ...), query('sequence', ...): the same items as the with_ loop of that name (scope.ts gives it) */
export const loopLookup: LoopLookup = (kind, terms, scope) =>
  expandLoop({ kind: kind as LoopSpec['kind'], value: terms }, scope);

/** The loop variable's name: loop_control.loop_var (templated), else `item`. */
export function loopVarOf(task: Task, scope: VarScope): string {
  return task.loop_control?.loop_var ? String(renderValue(task.loop_control.loop_var, scope)) : 'item';
}

/** Ansible's warning when the loop variable is already defined (a loop inside an included file's loop). */
export function loopVarInUse(task: Task, scope: VarScope): string | undefined {
  const v = loopVarOf(task, scope);
  if (!scope.has(v)) return undefined;
  return (
    `TASK: ${task.name}: The loop variable '${v}' is already in use. You should set the \`loop_var\` value in the ` +
    '`loop_control` option for the task to something else to avoid variable collisions and unexpected behavior.'
  );
}

/**
 * What loop item i adds, as Ansible 2.14: the loop variable (loop_control.loop_var, templated) and
 * ansible_loop_var; index_var and ansible_index_var when index_var is set; ansible_loop only with `extended`
 * (allitems unless extended_allitems is false; no previtem on the first item, no nextitem on the last). The
 * same keys go in the item's result.
 */
export function loopItem(
  task: Task,
  scope: VarScope,
  items: unknown[],
  i: number,
): { perItem: Record<string, unknown>; itemScope: VarScope } {
  const lc = task.loop_control;
  const loopVar = loopVarOf(task, scope);
  const indexVar = lc?.index_var ? String(renderValue(lc.index_var, scope)) : undefined;
  const perItem: Record<string, unknown> = { [loopVar]: items[i], ansible_loop_var: loopVar };
  if (indexVar) Object.assign(perItem, { [indexVar]: i, ansible_index_var: indexVar });
  if (lc?.extended)
    perItem.ansible_loop = {
      index: i + 1,
      index0: i,
      first: i === 0,
      last: i === items.length - 1,
      length: items.length,
      revindex: items.length - i,
      revindex0: items.length - i - 1,
      ...(lc.extended_allitems !== false ? { allitems: items } : {}),
      ...(i + 1 < items.length ? { nextitem: items[i + 1] } : {}),
      ...(i > 0 ? { previtem: items[i - 1] } : {}),
    };
  return { perItem, itemScope: scope.with({ name: 'loop', vars: perItem, templated: false }) };
}

export function loopScope(task: Task, scope: VarScope, items: unknown[], i: number): VarScope {
  return loopItem(task, scope, items, i).itemScope;
}

/** The result of a loop task: Ansible's aggregate over its items' results. */
export function loopResult(results: ModuleResult[]): ModuleResult {
  const failed = results.some((r) => r.failed);
  const allSkipped = results.every((r) => r.skipped);
  return {
    changed: results.some((r) => r.changed),
    failed: failed || undefined,
    unreachable: results.some((r) => r.unreachable) || undefined,
    // as Ansible: `skipped` is always there for a loop that ran items
    skipped: results.length === 0 || allSkipped,
    msg: failed
      ? 'One or more items failed'
      : results.length > 0 && allSkipped
        ? 'All items skipped'
        : 'All items completed',
    results,
    skipped_reason: results.length === 0 ? 'No items in the list' : undefined,
  };
}
