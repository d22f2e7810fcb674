/**
 * Patches 3, 9, 10 and 11 (nunjucks-patches.ts): the compiler and parser for node names in error messages,
 * chained inline ifs, Python truthiness in conditions and strict iterables in for loops; and the env globals
 * (__orch_truthy, __orch_iterable) the patched compiler emits calls to.
 */
import nunjucks from 'nunjucks';
import { TemplateError } from '../core/errors.js';
import { pyTruthy } from './python.js';
import { Undefined } from './undefined.js';
import { compiler, nodes, parser, type CompileFn, type ParserLike } from './nunjucks-internals.js';

export function patchCompiler(): void {
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
export function addCompilerGlobals(env: nunjucks.Environment): void {
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
