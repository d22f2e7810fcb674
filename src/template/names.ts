import { createRequire } from 'node:module';
import { globalNames, nunjucksSource } from './env.js';

/*
 * The variables a template reads, from its syntax tree (nothing is rendered): for the check before any
 * connection (playbook/undefined-vars.ts). Names bound inside the template (for, set, macro) are not
 * reads; a name tested with `is defined`/`is undefined` or given a `default` is "guarded".
 */

interface Node {
  typename: string;
  lineno: number;
  value?: unknown;
  fields?: string[];
  children?: Node[];
  [field: string]: unknown;
}

const requireCjs = createRequire(import.meta.url);
const parser = requireCjs('nunjucks/src/parser') as { parse(src: string, extensions: unknown[], opts: unknown): Node };

const JINJA_NAMES = ['range', 'lipsum', 'dict', 'cycler', 'joiner', 'namespace', 'loop', 'self', 'varargs', 'kwargs', 'caller', 'super', 'true', 'false', 'none', 'True', 'False', 'None', 'lookup', 'query', 'q', 'now', 'undef', 'zip'];
const GUARD_TESTS = new Set(['defined', 'undefined', 'none']);
const GUARD_FILTERS = new Set(['default', 'd', 'mandatory']);

export interface TemplateNames {
  /** variables read, first line of each */
  reads: Map<string, number>;
  /** variables tested for being defined or given a default */
  guarded: Set<string>;
}

function childNodes(n: Node): Node[] {
  const out: Node[] = [];
  for (const f of n.fields ?? []) {
    const v = n[f];
    if (Array.isArray(v)) out.push(...(v as Node[]));
    else if (v && typeof v === 'object' && 'typename' in v) out.push(v as Node);
  }
  if (Array.isArray(n.children)) out.push(...n.children);
  return out;
}

/** The variable an expression starts from (`a.b[c].d` → a), if it is a plain name. */
function rootName(n: Node | undefined): string | undefined {
  let cur = n;
  while (cur && cur.typename === 'LookupVal') cur = cur.target as Node;
  return cur?.typename === 'Symbol' ? String(cur.value) : undefined;
}

function symbolNames(n: Node | Node[] | undefined): string[] {
  if (!n) return [];
  if (Array.isArray(n)) return n.flatMap(symbolNames);
  if (n.typename === 'Symbol') return [String(n.value)];
  return childNodes(n).flatMap(symbolNames);
}

class Walker {
  readonly reads = new Map<string, number>();
  readonly guarded = new Set<string>();
  private readonly builtins = new Set([...JINJA_NAMES, ...globalNames()]);

  walk(n: Node | undefined, locals: Set<string>): void {
    if (!n) return;
    switch (n.typename) {
      case 'Symbol': {
        const name = String(n.value);
        if (!locals.has(name) && !this.builtins.has(name) && !this.reads.has(name)) this.reads.set(name, n.lineno);
        return;
      }
      case 'Filter': {
        const args = (n.args as Node | undefined)?.children ?? [];
        const name = String((n.name as Node | undefined)?.value ?? '');
        if (GUARD_FILTERS.has(name)) {
          const root = rootName(args[0]);
          if (root) this.guarded.add(root);
        }
        for (const a of args) this.walk(a, locals);
        return;
      }
      case 'Is': {
        const test = n.right as Node | undefined;
        const testName = test?.typename === 'FunCall' ? (test.name as Node | undefined)?.value : test?.value;
        if (GUARD_TESTS.has(String(testName))) {
          const root = rootName(n.left as Node);
          if (root) this.guarded.add(root);
        }
        this.walk(n.left as Node, locals);
        if (test?.typename === 'FunCall') this.walk(test.args as Node, locals);
        return;
      }
      case 'KeywordArgs':
        for (const pair of n.children ?? []) this.walk(pair.value as Node, locals);
        return;
      case 'For':
      case 'AsyncEach':
      case 'AsyncAll': {
        this.walk(n.arr as Node, locals);
        const inner = new Set([...locals, ...symbolNames(n.name as Node), 'loop']);
        this.walk(n.body as Node, inner);
        this.walk(n.else_ as Node, locals);
        return;
      }
      case 'Set':
        this.walk(n.value as Node, locals);
        this.walk(n.body as Node, locals);
        for (const t of symbolNames(n.targets as Node)) locals.add(t);
        return;
      case 'Macro':
      case 'Caller': {
        const name = rootName(n.name as Node);
        if (name) locals.add(name);
        const inner = new Set([...locals, ...symbolNames(n.args as Node), 'caller', 'varargs', 'kwargs']);
        this.walk(n.body as Node, inner);
        return;
      }
      case 'Import':
      case 'FromImport':
        for (const t of symbolNames(n.target as Node)) locals.add(t);
        for (const t of symbolNames(n.names as Node)) locals.add(t);
        return;
      default:
        for (const c of childNodes(n)) this.walk(c, locals);
    }
  }
}

/** What a template reads; undefined when it cannot be read (the check then says nothing about it). */
export function templateNames(src: string): TemplateNames | undefined {
  try {
    const root = parser.parse(nunjucksSource(src), [], {});
    const w = new Walker();
    w.walk(root, new Set());
    return { reads: w.reads, guarded: w.guarded };
  } catch {
    return undefined;
  }
}

/** What a bare expression (`when:`, `that:`) reads. */
export function expressionNames(expr: string): TemplateNames | undefined {
  return templateNames(`{{ ${expr} }}`);
}
