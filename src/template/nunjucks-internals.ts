/**
 * nunjucks' internal modules (runtime, nodes, compiler, parser), which the package does not export, and the
 * shapes of what orch's patches use of them. Reached by requiring nunjucks/src/*: the version is pinned exactly
 * in package.json.
 */
import { createRequire } from 'node:module';
import type { VarScope } from './scope.js';

/** `this` of a global function called from a template, and the context nunjucks passes its runtime. */
export interface NunjucksContext {
  ctx: { __orch_vars?: VarScope; __orch_over?: Record<string, unknown> };
  env: { globals: Record<string, unknown> };
}
export interface Frame {
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
export interface AstNode {
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
export type CompileFn = (this: unknown, node: AstNode, frame: unknown, async?: boolean) => void;
export interface ParserLike {
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
export const runtime = requireCjs('nunjucks/src/runtime') as RuntimeModule;
export const nodes = requireCjs('nunjucks/src/nodes') as NodesModule;
export const compiler = requireCjs('nunjucks/src/compiler') as CompilerModule;
export const parser = requireCjs('nunjucks/src/parser') as ParserModule;
