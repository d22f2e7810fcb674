/**
 * Patches 6, 7 and 8 (nunjucks-patches.ts): Python's operators. The compiler emits calls to runtime helpers
 * (runtime.orchEquals, orchAdd, orchMul, orchMod, orchDefinedLookup) for tests, `==`/`!=`, `+`, `*` and `%`.
 */
import { TemplateError } from '../core/errors.js';
import { pyEquals } from './python.js';
import { pyFormat } from './python-format.js';
import { Undefined } from './undefined.js';
import { UnknownValueError } from './unknown.js';
import { compiler, runtime, type AstNode, type CompileFn, type Frame } from './nunjucks-internals.js';

export function patchOperators(): void {
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
}
