import { createRequire } from 'node:module';
import nunjucks from 'nunjucks';
import { parse as yamlParse } from 'yaml';
import { OrchError, TemplateError } from '../core/errors.js';
import { makeFilters } from './filters.js';
import { dictMethod, pyEquals, pyRepr, pyTruthy, stringMethod } from './python.js';
import type { VarScope } from './scope.js';
import { tests } from './tests.js';
import { now } from './datetime.js';
import { rememberError, takeRememberedError, Undefined } from './undefined.js';
import { lookupPlugins, setLookupRenderer } from './lookups.js';
import { IncludeLoader } from './includes.js';
import { UnknownValueError, failIfUnknown } from './unknown.js';
import { ANSIBLE_DEFAULTS, prepare, readOverrides, trailingNewlines, type JinjaOptions } from './whitespace.js';

/*
 * nunjucks speaks most of Jinja2. Four patches make it read like Ansible's Jinja2 (process-wide, orch owns it):
 * - names resolve through the task's VarScope (lazy, templated, precedence-ordered) and missing names
 *   become `Undefined` (strict: an error when used, fine for `default` and `is defined`);
 * - attribute lookups on strings and dicts offer Python's methods (.startswith, .split, .items, .get);
 * - printed values look like Python's (True, False, None, ['a']);
 * - `if`, `not` and inline-if use Python truthiness (an empty list is false).
 */

interface NunjucksContext {
  ctx: { __orch_vars?: VarScope; __orch_over?: Record<string, unknown> };
  env: { globals: Record<string, unknown> };
}
interface Frame {
  lookup(name: string): unknown;
}
interface RuntimeModule {
  contextOrFrameLookup(context: NunjucksContext, frame: Frame, name: string): unknown;
  memberLookup(obj: unknown, key: unknown): unknown;
  suppressValue(val: unknown, autoescape: boolean): unknown;
  orchEquals?(a: unknown, b: unknown): boolean;
  orchDefinedLookup?(context: NunjucksContext, frame: Frame, name: string): unknown;
  orchAdd?(a: unknown, b: unknown): unknown;
  inOperator(key: unknown, val: unknown): boolean;
}
interface AstNode {
  lineno: number;
  colno: number;
  cond?: AstNode;
  target?: AstNode;
  arr?: AstNode;
}
interface NodesModule {
  FunCall: new (lineno: number, colno: number, name: AstNode, args: AstNode) => AstNode;
  Symbol: new (lineno: number, colno: number, value: string) => AstNode;
  NodeList: new (lineno: number, colno: number, children: AstNode[]) => AstNode;
  InlineIf: new (lineno: number, colno: number) => AstNode & { body?: AstNode; else_?: AstNode | null };
}
type CompileFn = (this: unknown, node: AstNode, frame: unknown, async?: boolean) => void;
interface ParserLike {
  parseOr(): AstNode;
  skipSymbol(s: string): boolean;
  parseInlineIf(): AstNode;
}
interface ParserModule {
  Parser: { prototype: { parseInlineIf(this: ParserLike): AstNode } };
}
interface CompilerModule {
  Compiler: { prototype: Record<string, CompileFn> };
}

const requireCjs = createRequire(import.meta.url);
const runtime = requireCjs('nunjucks/src/runtime') as RuntimeModule;
const nodes = requireCjs('nunjucks/src/nodes') as NodesModule;
const compiler = requireCjs('nunjucks/src/compiler') as CompilerModule;
const parser = requireCjs('nunjucks/src/parser') as ParserModule;

// Whitespace (trim_blocks, lstrip_blocks, markers, comments) is Jinja2's, applied by whitespace.ts before nunjucks.
const includes = new IncludeLoader((inner) => jinjaTagToNunjucks(inner));
// (a loader may answer null for "not here"; nunjucks' typings say it must not)
export const env = new nunjucks.Environment(includes as unknown as nunjucks.ILoader, { autoescape: false, throwOnUndefined: false, trimBlocks: false, lstripBlocks: false });

const globals: Record<string, unknown> = { True: true, False: false, None: null, now };

let patched = false;
function patchNunjucks(): void {
  if (patched) return;
  patched = true;
  runtime.contextOrFrameLookup = (context, frame, name) => {
    const local = frame.lookup(name);
    if (local !== undefined) return local;
    // The template module's own variables (ansible_managed, template_*) win over the play's, as in Ansible.
    const over = context.ctx.__orch_over;
    if (over && Object.prototype.hasOwnProperty.call(over, name)) return over[name];
    const scope = context.ctx.__orch_vars;
    if (scope?.has(name)) return scope.get(name);
    if (name in context.env.globals) return context.env.globals[name];
    const fromCtx = (context.ctx as Record<string, unknown>)[name];
    if (fromCtx !== undefined) return fromCtx;
    return new Undefined(name);
  };
  runtime.memberLookup = (obj, key) => {
    failIfUnknown(obj); // hostvars['h'].result of a command that would run
    if (obj instanceof Undefined) return new Undefined(`${obj.name}.${String(key)}`, obj.reason);
    if (obj === null || obj === undefined) return new Undefined(String(key), `cannot read '${String(key)}' of None`);
    const k = String(key);
    if (typeof obj === 'string') return stringMethod(obj, k) ?? (/^\d+$/.test(k) ? obj[Number(k)] : new Undefined(k, `'str object' has no attribute '${k}'`));
    if (Array.isArray(obj)) {
      const idx = Number(key);
      if (Number.isInteger(idx)) return idx < 0 ? obj[obj.length + idx] : idx < obj.length ? obj[idx] : new Undefined(k, `list index ${k} out of range`);
      if (k === 'length') return obj.length;
      if (k === 'index') return (x: unknown) => {
        const i = obj.indexOf(x);
        if (i < 0) throw new TemplateError(`${JSON.stringify(x)} is not in list`);
        return i;
      };
      if (k === 'count') return (x: unknown) => obj.filter((y) => y === x).length;
      return new Undefined(k, `'list object' has no attribute '${k}'`);
    }
    if (typeof obj === 'object') {
      const d = obj as Record<string, unknown>;
      if (Object.prototype.hasOwnProperty.call(d, k)) return d[k];
      if (k in d && typeof d[k] === 'function') return (d[k] as (...a: unknown[]) => unknown).bind(d);
      return dictMethod(d, k) ?? new Undefined(k, `'dict object' has no attribute '${k}'`);
    }
    return undefined;
  };
  // nunjucks puts a called expression's source into a JS string for its error messages, unescaped:
  // `'\n'.join(x)` (a literal with a newline) broke the compiled template.
  const getNodeName = compiler.Compiler.prototype._getNodeName as unknown as (this: unknown, node: unknown) => string;
  (compiler.Compiler.prototype as Record<string, unknown>)._getNodeName = function (this: unknown, node: unknown): string {
    return getNodeName.call(this, node).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  };
  // `'x' in missing` fails in Jinja (StrictUndefined's __contains__); nunjucks answered false.
  const inOperator = runtime.inOperator;
  runtime.inOperator = (key, val) => {
    for (const v of [key, val]) if (v instanceof Undefined) v.fail();
    return inOperator(key, val);
  };
  runtime.suppressValue = (val) => {
    if (val instanceof Undefined) val.fail();
    if (val instanceof nunjucks.runtime.SafeString) return val.toString(); // a macro's output
    return pyRepr(val);
  };
  // Rewrite conditions as __orch_truthy(cond) so they follow Python's rules.
  const wrapCond = (field: 'cond' | 'target' | 'arr', method: string, fn = '__orch_truthy') => {
    const original = compiler.Compiler.prototype[method] as CompileFn;
    compiler.Compiler.prototype[method] = function (this: unknown, node, frame, async) {
      const inner = node[field];
      if (inner) {
        const callee = new nodes.Symbol(inner.lineno, inner.colno, fn);
        node[field] = new nodes.FunCall(inner.lineno, inner.colno, callee, new nodes.NodeList(inner.lineno, inner.colno, [inner]));
      }
      original.call(this, node, frame, async);
    };
  };
  // nunjucks emits a test's arguments without commas between them: `x is version('1', '>')` breaks.
  compiler.Compiler.prototype.compileIs = function (this: unknown, node, frame) {
    const self = this as { _emit(s: string): void; compile(n: unknown, f: unknown): void };
    const right = (node as unknown as { right: { name?: { value: string }; value?: string; args?: { children: AstNode[] } } }).right;
    const test = right.name ? right.name.value : String(right.value);
    self._emit(`env.getTest("${test}").call(context, `);
    const left = (node as unknown as { left: AstNode & { typename?: string; value?: string } }).left;
    // `r is defined` where r is the plan's Unknown (a command that would run registered it): it is defined
    if ((test === 'defined' || test === 'undefined') && left.typename === 'Symbol' && !(frame as Frame).lookup(String(left.value))) {
      self._emit(`runtime.orchDefinedLookup(context, frame, ${JSON.stringify(String(left.value))})`);
    } else self.compile(left, frame);
    for (const arg of right.args?.children ?? []) {
      self._emit(',');
      self.compile(arg, frame);
    }
    self._emit(') === true');
  };
  runtime.orchDefinedLookup = (context, frame, name) => {
    try {
      return runtime.contextOrFrameLookup(context, frame, name);
    } catch (err) {
      if (!(err instanceof UnknownValueError)) throw err;
      takeRememberedError();
      return true;
    }
  };
  // `==`/`!=` compare like Python: lists and dicts by content, '1' != 1; chains (a < b < c) pairwise.
  runtime.orchEquals = (a, b) => {
    for (const v of [a, b]) if (v instanceof Undefined) v.fail();
    return pyEquals(a, b);
  };
  // `+` as Python's: lists concatenate (JavaScript made [] + ['a'] the string 'a'), str + int is an error
  runtime.orchAdd = (a, b) => {
    for (const v of [a, b]) if (v instanceof Undefined) v.fail();
    const num = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
    if (Array.isArray(a) && Array.isArray(b)) return [...(a as unknown[]), ...(b as unknown[])];
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (num(a) && num(b)) return Number(a) + Number(b);
    const type = (v: unknown) => (Array.isArray(v) ? 'list' : typeof v === 'string' ? 'str' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : v === null ? 'NoneType' : typeof v === 'boolean' ? 'bool' : 'dict');
    throw new TemplateError(Array.isArray(a) || typeof a === 'string' ? `can only concatenate ${type(a)} (not "${type(b)}") to ${type(a)}` : `unsupported operand type(s) for +: '${type(a)}' and '${type(b)}'`);
  };
  compiler.Compiler.prototype.compileAdd = function (this: unknown, node, frame) {
    const self = this as { _emit(s: string): void; compile(n: unknown, f: unknown): void };
    const n = node as unknown as { left: AstNode; right: AstNode };
    self._emit('runtime.orchAdd(');
    self.compile(n.left, frame);
    self._emit(', ');
    self.compile(n.right, frame);
    self._emit(')');
  };
  compiler.Compiler.prototype.compileCompare = function (this: unknown, node, frame) {
    const self = this as { _emit(s: string): void; compile(n: unknown, f: unknown): void };
    const n = node as unknown as { expr: AstNode; ops: { type: string; expr: AstNode }[] };
    n.ops.forEach((op, i) => {
      if (i > 0) self._emit(' && ');
      const left = i === 0 ? n.expr : (n.ops[i - 1] as { expr: AstNode }).expr;
      const eq = op.type === '==' || op.type === '===' ? '' : op.type === '!=' || op.type === '!==' ? '!' : undefined;
      self._emit(eq === undefined ? '(' : `${eq}runtime.orchEquals(`);
      self.compile(left, frame);
      self._emit(eq === undefined ? ` ${op.type} ` : ', ');
      self.compile(op.expr, frame);
      self._emit(')');
    });
  };
  // Jinja chains conditional expressions (`a if x else b if y else c`); nunjucks' else took only an `or`.
  const parserProto = parser.Parser.prototype;
  parserProto.parseInlineIf = function (this: ParserLike) {
    const node = this.parseOr();
    if (!this.skipSymbol('if')) return node;
    const out = new nodes.InlineIf(node.lineno, node.colno);
    out.body = node;
    out.cond = this.parseOr();
    out.else_ = this.skipSymbol('else') ? this.parseInlineIf() : null;
    return out;
  };
  wrapCond('cond', 'compileIf');
  wrapCond('cond', 'compileInlineIf');
  wrapCond('target', 'compileNot');
  wrapCond('arr', 'compileFor', '__orch_iterable');
}
patchNunjucks();

const filterTable = makeFilters(
  (name, v, args) => {
    const f = env.getFilter(name) as (...a: unknown[]) => unknown;
    return f(v, ...args);
  },
  (name, v, args) => {
    const t = (tests as Record<string, ((...a: unknown[]) => boolean) | undefined>)[name];
    if (!t) throw new TemplateError(`no test named '${name}'`);
    return t(v, ...args);
  },
);
// A filter given an undefined value fails, as any use of Jinja's StrictUndefined does (`missing | bool` was
// false, silently); only the filters made for undefined values take one.
const TAKES_UNDEFINED = new Set(['default', 'd', 'mandatory']);
for (const [name, f] of Object.entries(filterTable)) {
  env.addFilter(
    name,
    TAKES_UNDEFINED.has(name)
      ? f
      : (v: unknown, ...args: unknown[]) => {
          if (v instanceof Undefined) v.fail();
          return f(v, ...args);
        },
  );
}
for (const [name, t] of Object.entries(tests)) (env as unknown as { addTest(n: string, f: unknown): void }).addTest(name, t);

setLookupRenderer((text, scope, over, searchPath, convertData) => renderForLookup(text, scope, over, searchPath, convertData));

let captured: unknown;
env.addGlobal('__orch_capture', (v: unknown) => {
  captured = v;
  return '';
});
// `{% for x in missing %}` is an error in Jinja (StrictUndefined; None is not iterable); nunjucks looped zero times.
env.addGlobal('__orch_iterable', (v: unknown) => {
  if (v instanceof Undefined) v.fail();
  if (v === null || v === undefined) throw rememberError(new TemplateError("'NoneType' object is not iterable"));
  return v;
});
env.addGlobal('__orch_truthy', (v: unknown) => {
  if (v instanceof Undefined) v.fail();
  return pyTruthy(v);
});
env.addGlobal('range', (a: number, b?: number, step = 1) => {
  const [start, end] = b === undefined ? [0, a] : [a, b];
  const out: number[] = [];
  for (let i = start; step > 0 ? i < end : i > end; i += step) out.push(i);
  return out;
});
env.addGlobal('lookup', function (this: NunjucksContext, name: string, ...args: unknown[]) {
  return lookupPlugins(this.ctx.__orch_vars, name, args, false);
});
env.addGlobal('query', function (this: NunjucksContext, name: string, ...args: unknown[]) {
  return lookupPlugins(this.ctx.__orch_vars, name, args, true);
});
env.addGlobal('q', function (this: NunjucksContext, name: string, ...args: unknown[]) {
  return lookupPlugins(this.ctx.__orch_vars, name, args, true);
});
for (const [k, v] of Object.entries(globals)) env.addGlobal(k, v);

/**
 * Jinja2 syntax nunjucks' parser does not take, rewritten inside one tag (never inside quotes):
 * a test's one argument without parentheses (`x is sameas true`) and numeric attributes (`item.0`).
 */
const BARE_TEST_ARG = /\bis\s+(not\s+)?(sameas|divisibleby|equalto|eq|ne|lt|gt|ge|le|greaterthan|lessthan)\s+(?![\s(])([A-Za-z_][\w.]*|-?\d+(?:\.\d+)?)/g;
/** Jinja2's `in` test (`x is in seq`, `x is not in seq`): the `in` operator, which nunjucks has. */
const IN_TEST = /\bis\s+(not\s+)?in\b/g;
const NUMERIC_ATTR = /([A-Za-z_]\w*|\]|\))\.(\d+)\b/g;
const STRING_LITERAL = /('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/;

const PY_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\n': '' };

/**
 * A Jinja2 string literal read as Python reads it (unicode-escape: `\n`, `\x41`, `\u00e9`, octal; an unknown
 * escape such as `\d` keeps its backslash) and written back for nunjucks, whose lexer knows only \n \t \r and
 * drops the backslash of any other escape (a regex `'\d+'` would become `'d+'`).
 */
export function pyStringLiteralForNunjucks(literal: string): string {
  const q = literal[0] ?? "'";
  const value = literal.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g, (whole, e: string) => {
    if (/^[xuU]/.test(e) && e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    return PY_ESCAPES[e] ?? whole;
  });
  return q + value.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t') + q;
}

/**
 * rawStrings: Ansible's escape_backslashes for strings of a playbook (not template files, not conditions):
 * inside {{ }} a string literal's backslashes are doubled before Jinja reads it, so `'\1'` stays backslash-one.
 */
function jinjaTagToNunjucks(body: string, rawStrings = false): string {
  if (!body.includes('.') && !body.includes(' is ') && !body.includes('\\')) return body;
  const literal = (part: string) => (!part.includes('\\') ? part : rawStrings ? part.replace(/\\/g, '\\\\') : pyStringLiteralForNunjucks(part));
  return body
    .split(STRING_LITERAL)
    .map((part, i) => (i % 2 === 1 ? literal(part) : part.replace(IN_TEST, (_m, not?: string) => (not ? 'not in' : 'in')).replace(BARE_TEST_ARG, 'is $1$2($3)').replace(NUMERIC_ATTR, '$1[$2]')))
    .join('');
}

interface Compiled {
  template: nunjucks.Template;
  options: JinjaOptions;
}

const compiled = new Map<string, Compiled>();
function compile(src: string, base: JinjaOptions, escapeBackslashes = false): Compiled {
  const key = `${escapeBackslashes ? 'E' : ''}${base === ANSIBLE_DEFAULTS ? src : `${JSON.stringify(base)}\0${src}`}`;
  let c = compiled.get(key);
  if (!c) {
    const { body, options } = readOverrides(src, base);
    const { source } = prepare(body, options, (inner, kind) => jinjaTagToNunjucks(inner, escapeBackslashes && kind === 'variable'));
    c = { template: new nunjucks.Template(source, env, undefined, true), options };
    if (compiled.size > 5000) compiled.clear();
    compiled.set(key, c);
  }
  return c;
}

function unwrapError(err: unknown, src: string): OrchError {
  const ours = takeRememberedError();
  if (ours) return ours;
  if (err instanceof OrchError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const clean = msg
    .replace(/^\(unknown path\)\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return new TemplateError(`template error in "${src.length > 120 ? `${src.slice(0, 117)}...` : src}": ${clean}`);
}

export interface RenderOptions {
  /** Jinja environment settings (the template module's trim_blocks, lstrip_blocks, newline_sequence...). */
  jinja?: JinjaOptions;
  /** Variables that win over the play's (the template module's ansible_managed, template_*). */
  over?: Record<string, unknown>;
  /** Where `{% include %}` looks (default: the scope's lookup paths). */
  searchPath?: readonly string[];
  /** a playbook's string (task arguments, variables): Ansible's escape_backslashes (see jinjaTagToNunjucks) */
  escapeBackslashes?: boolean;
}

/**
 * Render template text to a string as Ansible's Templar.do_template does: a `#jinja2:` first line overrides
 * the environment, Jinja2 drops the source's last newline, and Ansible puts back as many trailing newlines
 * as the source had (preserve_trailing_newlines).
 */
export function renderText(src: string, scope: VarScope | undefined, extra: Record<string, unknown> = {}, opts: RenderOptions = {}): string {
  const { out, restoreNewlines } = renderJinja(src, scope, extra, opts);
  return restoreNewlines(out);
}

function renderJinja(src: string, scope: VarScope | undefined, extra: Record<string, unknown>, opts: RenderOptions): { out: string; restoreNewlines: (s: string) => string } {
  try {
    takeRememberedError(); // a failure from an earlier render must not stand in for this one's
    const c = compile(src, opts.jinja ?? ANSIBLE_DEFAULTS, opts.escapeBackslashes === true);
    const outer = includes.current;
    includes.current = { paths: opts.searchPath ?? scope?.lookupPaths ?? [], options: c.options };
    let out: string;
    try {
      // On top of the play's variables, so a variable templated lazily (`motd: "{{ ansible_managed }}"`) sees them too.
      const vars = opts.over && scope ? scope.with({ name: 'template module', vars: opts.over, templated: false }) : scope;
      out = c.template.render({ ...extra, __orch_vars: vars, __orch_over: opts.over });
    } finally {
      includes.current = outer;
    }
    const want = trailingNewlines(src);
    return { out, restoreNewlines: (s) => s + c.options.newlineSequence.repeat(Math.max(0, want - trailingNewlines(s))) };
  } catch (err) {
    throw rememberError(unwrapError(err, src));
  }
}

/**
 * lookup('template'): text without any Jinja delimiter is returned as it is (Templar.template skips it);
 * otherwise convert_data is on, so output that reads as a list, dict or bool becomes one (before the trailing
 * newlines are put back, as ansible_eval_concat runs first).
 */
function renderForLookup(src: string, scope: VarScope | undefined, over: Record<string, unknown>, searchPath: readonly string[], convertData: boolean): unknown {
  if (!/\{[{%#]/.test(src)) return src;
  const { out, restoreNewlines } = renderJinja(src, scope, {}, { over, searchPath });
  if (!convertData) return restoreNewlines(out);
  if (out === 'True' || out === 'False') return out === 'True';
  if (out.startsWith('{') || out.startsWith('[')) {
    try {
      const v: unknown = yamlParse(out, { version: '1.1' });
      if (v !== null && typeof v === 'object') return v;
    } catch {
      // not a literal: text, as in Ansible
    }
  }
  return restoreNewlines(out);
}

/** Evaluate a bare Jinja expression (as in `when:`) to its native value. */
export function evalExpression(expr: string, scope: VarScope | undefined, opts: RenderOptions = {}): unknown {
  captured = undefined;
  renderText(`{{ __orch_capture((${expr})) }}`, scope, {}, opts);
  const value = captured;
  captured = undefined;
  return value;
}

const PLAYBOOK_STRING: RenderOptions = { escapeBackslashes: true };

const SINGLE_EXPR = /^\s*\{\{((?:(?!\{\{|\}\}).)*)\}\}\s*$/s;

export function hasTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%') || s.includes('{#');
}

/** Template a string: a string that is one `{{ expr }}` keeps a list, dict or boolean (a bare variable: any value). */
export function renderString(src: string, scope: VarScope | undefined): unknown {
  if (!hasTemplate(src)) return src;
  const single = SINGLE_EXPR.exec(src);
  if (single && single[1] !== undefined) {
    const v = evalExpression(single[1], scope, PLAYBOOK_STRING);
    if (v instanceof Undefined) v.fail();
    const lead = /^\s*/.exec(src)?.[0] ?? '';
    const trail = /\s*$/.exec(src)?.[0] ?? '';
    // Ansible 2.14: a bare variable name hands its value back as it is (Templar's SINGLE_VAR); any other
    // expression's value becomes text, and only text that reads as a list, dict or boolean is read back
    // (`"{{ item.port }}"` is the string '8080', `"{{ n + 1 }}"` is '6')
    if (lead === '' && trail === '') return /^\s*\w+\s*$/.test(single[1]) ? v : aroundOneExpression(v, '', '', 0);
    // Ansible's SINGLE_VAR shortcut (`$` also matches before a final newline) hands back a number as it is.
    if (typeof v === 'number' && lead === '' && trail === '\n' && /^\s*\w+\s*$/.test(single[1])) return v;
    return aroundOneExpression(v, lead, trail, trailingNewlines(src));
  }
  return renderText(src, scope, {}, PLAYBOOK_STRING);
}

/**
 * `"{{ v }}\n"` as Ansible templates it: Jinja drops the final newline, Ansible's concat reads a list, dict or
 * bool back as one (only when nothing precedes it), and the source's trailing newlines are put back on text
 * (copy's `content: "{{ v }}\n"` keeps its newline).
 */
function aroundOneExpression(v: unknown, lead: string, trail: string, newlines: number): unknown {
  if (lead === '' && (typeof v === 'boolean' || Array.isArray(v) || (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype))) return v;
  const body = `${lead}${pyRepr(v instanceof nunjucks.runtime.SafeString ? v.toString() : v)}${trail.endsWith('\n') ? trail.slice(0, -1) : trail}`;
  return body + '\n'.repeat(Math.max(0, newlines - trailingNewlines(body)));
}

/** Template every string inside a value (lists and dicts are copied). */
export function renderValue(value: unknown, scope: VarScope | undefined): unknown {
  if (typeof value === 'string') return renderString(value, scope);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[hasTemplate(k) ? String(renderString(k, scope)) : k] = renderValue(v, scope);
    return out;
  }
  return value;
}

/** A `when`/`changed_when`/`failed_when` condition: a bare expression, or a list of them (all must hold). */
export function evalCondition(cond: unknown, scope: VarScope): boolean {
  const list = Array.isArray(cond) ? cond : [cond];
  for (const c of list) {
    if (typeof c === 'boolean') {
      if (!c) return false;
      continue;
    }
    let expr = String(c).trim();
    const m = SINGLE_EXPR.exec(expr);
    if (m && m[2] !== undefined) expr = m[2];
    const v = evalExpression(expr, scope);
    if (v instanceof Undefined) v.fail();
    if (!pyTruthy(typeof v === 'string' && ['false', 'no', ''].includes(v.toLowerCase()) ? false : v)) return false;
  }
  return true;
}
