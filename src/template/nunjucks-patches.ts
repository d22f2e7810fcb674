/*
 * Every patch orch makes to nunjucks, in one place. nunjucks speaks most of Jinja2; these make it read like
 * Ansible's Jinja2. They replace functions of nunjucks' runtime, compiler and parser modules, which the package
 * does not export: they are reached by requiring its internal files (nunjucks/src/*), so the version is pinned
 * exactly in package.json, and test/unit/nunjucks-patches.test.ts has a test per patch (numbered as below).
 * Process-wide: orch is nunjucks' only user in the process.
 *
 * Syntax nunjucks' lexer and parser do not take at all is rewritten in the source before nunjucks sees it
 * (env.ts jinjaTagToNunjucks, whitespace.ts); everything here works on nunjucks' own objects.
 */
import { createRequire } from 'node:module';
import nunjucks from 'nunjucks';
import { TemplateError } from '../core/errors.js';
import { dictMethod, pyEquals, pyRepr, pyTruthy, stringMethod } from './python.js';
import { PySlice } from './slices.js';
import { pyFormat } from './filters.js';
import type { VarScope } from './scope.js';
import { Undefined } from './undefined.js';
import { failIfUnknown, UnknownValueError } from './unknown.js';

/** `this` of a global function called from a template, and the context nunjucks passes its runtime. */
export interface NunjucksContext {
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
  orchAdd?(a: unknown, b: unknown): unknown;
  orchDefinedLookup?(context: NunjucksContext, frame: Frame, name: string): unknown;
  orchMul?(a: unknown, b: unknown): unknown;
  orchMod?(a: unknown, b: unknown): unknown;
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

let patched = false;

/**
 * Apply every patch (once per process: they change nunjucks' own prototypes) and give `env` the helpers the
 * patched compiler emits calls to.
 */
export function patchNunjucks(env: nunjucks.Environment): void {
  addCompilerGlobals(env);
  if (patched) return;
  patched = true;
  // 1. Names resolve through the frame (set, loop and macro variables), then the template module's own
  //    variables, then the task's VarScope, then the environment's globals; a missing name is an Undefined.
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
  // 2. Attribute and item lookups as Python's: string, list and dict methods (.startswith, .split, .index,
  //    .items, .get); a missing attribute or an index out of range is an Undefined with Python's reason.
  runtime.memberLookup = (obj, key) => {
    failIfUnknown(obj); // `orch plan`: hostvars['h'].result of a command that would run
    if (key instanceof PySlice && !(obj instanceof Undefined)) return key.apply(obj);
    if (obj instanceof Undefined) return new Undefined(`${obj.name}.${String(key)}`, obj.reason);
    if (obj === null || obj === undefined) return new Undefined(String(key), `cannot read '${String(key)}' of None`);
    const k = String(key);
    if (typeof obj === 'string')
      return (
        stringMethod(obj, k) ??
        (/^\d+$/.test(k) ? obj[Number(k)] : new Undefined(k, `'str object' has no attribute '${k}'`))
      );
    if (Array.isArray(obj)) {
      const idx = Number(key);
      if (Number.isInteger(idx))
        return idx < 0
          ? obj[obj.length + idx]
          : idx < obj.length
            ? obj[idx]
            : new Undefined(k, `list index ${k} out of range`);
      if (k === 'length') return obj.length;
      if (k === 'index')
        return (x: unknown) => {
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
  // 3. nunjucks puts a called expression's source into a JS string for its error messages, unescaped:
  // `'\n'.join(x)` (a literal with a newline) broke the compiled template.
  const getNodeName = compiler.Compiler.prototype._getNodeName as unknown as (this: unknown, node: unknown) => string;
  (compiler.Compiler.prototype as Record<string, unknown>)._getNodeName = function (
    this: unknown,
    node: unknown,
  ): string {
    return getNodeName
      .call(this, node)
      .replace(/\\/g, '\\\\')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\u2028/g, '\\u2028')
      .replace(/\u2029/g, '\\u2029');
  };
  // 4. `'x' in missing` fails in Jinja (StrictUndefined's __contains__); nunjucks answered false.
  const inOperator = runtime.inOperator;
  runtime.inOperator = (key, val) => {
    for (const v of [key, val]) if (v instanceof Undefined) v.fail();
    return inOperator(key, val);
  };
  // 5. Printed values look like Python's (True, None, ['a']); printing an Undefined is an error.
  runtime.suppressValue = (val) => {
    if (val instanceof Undefined) val.fail();
    if (val instanceof nunjucks.runtime.SafeString) return val.toString(); // a macro's output
    return pyRepr(val);
  };
  // (for 10 and 11) a compiled node's condition, operand or iterable wrapped in a call to an env global.
  const wrapCond = (field: 'cond' | 'target' | 'arr', method: string, fn = '__orch_truthy') => {
    const original = compiler.Compiler.prototype[method] as CompileFn;
    compiler.Compiler.prototype[method] = function (this: unknown, node, frame, async) {
      const inner = node[field];
      if (inner) {
        const callee = new nodes.Symbol(inner.lineno, inner.colno, fn);
        node[field] = new nodes.FunCall(
          inner.lineno,
          inner.colno,
          callee,
          new nodes.NodeList(inner.lineno, inner.colno, [inner]),
        );
      }
      original.call(this, node, frame, async);
    };
  };
  // 6. nunjucks emits a test's arguments without commas between them: `x is version('1', '>')` breaks.
  compiler.Compiler.prototype.compileIs = function (this: unknown, node, frame) {
    const self = this as { _emit(s: string): void; compile(n: unknown, f: unknown): void };
    const right = (
      node as unknown as { right: { name?: { value: string }; value?: string; args?: { children: AstNode[] } } }
    ).right;
    const test = right.name ? right.name.value : String(right.value);
    self._emit(`env.getTest("${test}").call(context, `);
    const left = (node as unknown as { left: AstNode & { typename?: string; value?: string } }).left;
    // `orch plan`: `r is defined` where r is the plan's Unknown (a command that would run registered it) is true
    if (
      (test === 'defined' || test === 'undefined') &&
      left.typename === 'Symbol' &&
      !(frame as Frame).lookup(String(left.value))
    ) {
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
      return true;
    }
  };
  // 7. `==`/`!=` compare like Python: lists and dicts by content, '1' != 1; chains (a < b < c) pairwise.
  runtime.orchEquals = (a, b) => {
    for (const v of [a, b]) if (v instanceof Undefined) v.fail();
    return pyEquals(a, b);
  };
  // 8. `+` as Python's: lists concatenate (JavaScript made [] + ['a'] the string 'a'), str + int is an error
  runtime.orchAdd = (a, b) => {
    for (const v of [a, b]) if (v instanceof Undefined) v.fail();
    const num = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
    if (Array.isArray(a) && Array.isArray(b)) return [...(a as unknown[]), ...(b as unknown[])];
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (num(a) && num(b)) return Number(a) + Number(b);
    const type = (v: unknown) =>
      Array.isArray(v)
        ? 'list'
        : typeof v === 'string'
          ? 'str'
          : typeof v === 'number'
            ? Number.isInteger(v)
              ? 'int'
              : 'float'
            : v === null
              ? 'NoneType'
              : typeof v === 'boolean'
                ? 'bool'
                : 'dict';
    throw new TemplateError(
      Array.isArray(a) || typeof a === 'string'
        ? `can only concatenate ${type(a)} (not "${type(b)}") to ${type(a)}`
        : `unsupported operand type(s) for +: '${type(a)}' and '${type(b)}'`,
    );
  };
  // `*` and `%` as Python's: 'x' * 3 and [0] * 2 repeat, 'fmt %s' % args formats; numbers as before
  runtime.orchMul = (a, b) => {
    for (const v of [a, b]) if (v instanceof Undefined) v.fail();
    const [seq, times] =
      typeof b === 'number' && (typeof a === 'string' || Array.isArray(a))
        ? [a, b]
        : typeof a === 'number' && (typeof b === 'string' || Array.isArray(b))
          ? [b, a]
          : [undefined, 0];
    if (typeof seq === 'string') return seq.repeat(Math.max(0, times));
    if (Array.isArray(seq)) return Array.from({ length: Math.max(0, times) }, () => seq as unknown[]).flat(1);
    return Number(a) * Number(b);
  };
  runtime.orchMod = (a, b) => {
    for (const v of [a, b]) if (v instanceof Undefined) v.fail();
    return typeof a === 'string' ? pyFormat(a, Array.isArray(b) ? b : [b]) : Number(a) % Number(b);
  };
  const binOpCall = (fn: string): CompileFn =>
    function (this: unknown, node, frame) {
      const self = this as { _emit(s: string): void; compile(n: unknown, f: unknown): void };
      const n = node as unknown as { left: AstNode; right: AstNode };
      self._emit(`runtime.${fn}(`);
      self.compile(n.left, frame);
      self._emit(', ');
      self.compile(n.right, frame);
      self._emit(')');
    };
  compiler.Compiler.prototype.compileAdd = binOpCall('orchAdd');
  compiler.Compiler.prototype.compileMul = binOpCall('orchMul');
  compiler.Compiler.prototype.compileMod = binOpCall('orchMod');
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
  // 9. Jinja chains conditional expressions (`a if x else b if y else c`); nunjucks' else took only an `or`.
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
  // 10. `if`, inline if and `not` use Python truthiness (an empty list or dict is false): __orch_truthy(cond).
  wrapCond('cond', 'compileIf');
  wrapCond('cond', 'compileInlineIf');
  wrapCond('target', 'compileNot');
  // 11. `{% for x in missing %}` is an error in Jinja (StrictUndefined; None is not iterable); nunjucks looped
  //     zero times: __orch_iterable(arr).
  wrapCond('arr', 'compileFor', '__orch_iterable');
}

/** The functions the patched compiler emits calls to (10, 11). */
function addCompilerGlobals(env: nunjucks.Environment): void {
  env.addGlobal('__orch_iterable', (v: unknown) => {
    if (v instanceof Undefined) v.fail();
    if (v === null || v === undefined) throw new TemplateError("'NoneType' object is not iterable");
    return v;
  });
  env.addGlobal('__orch_truthy', (v: unknown) => {
    if (v instanceof Undefined) v.fail();
    return pyTruthy(v);
  });
}
