/*
 * Every patch orch makes to nunjucks, applied from here. nunjucks speaks most of Jinja2; these make it read like
 * Ansible's Jinja2. They replace functions of nunjucks' runtime, compiler and parser modules, which the package
 * does not export: they are reached by requiring its internal files (nunjucks-internals.ts), so the version is
 * pinned exactly in package.json, and test/unit/nunjucks-patches.test.ts has a test per patch (same numbers).
 * Process-wide: orch is nunjucks' only user in the process.
 *
 * Each patch, with its number and comment, is in the file of what it changes:
 *   nunjucks-runtime-patches.ts   1 names, 2 attributes, 4 `in`, 5 printing
 *   nunjucks-operator-patches.ts  6 tests with arguments, 7 `==`/`!=`, 8 `+` (and `*`, `%`)
 *   nunjucks-compiler-patches.ts  3 node names, 9 chained inline if (parser), 10 truthiness, 11 for loops
 * Each replaces or wraps functions no other patch touches: the order they are applied in does not matter.
 *
 * Syntax nunjucks' lexer and parser do not take at all is rewritten in the source before nunjucks sees it
 * (jinja-syntax.ts, whitespace.ts); everything here works on nunjucks' own objects.
 */
import nunjucks from 'nunjucks';
import { addCompilerGlobals, patchCompiler } from './nunjucks-compiler-patches.js';
import { patchOperators } from './nunjucks-operator-patches.js';
import { patchRuntime } from './nunjucks-runtime-patches.js';

// env.ts's name for it
export type { NunjucksContext } from './nunjucks-internals.js';

let patched = false;

/**
 * Apply every patch (once per process: they change nunjucks' own prototypes) and give `env` the helpers the
 * patched compiler emits calls to.
 */
export function patchNunjucks(env: nunjucks.Environment): void {
  addCompilerGlobals(env);
  if (patched) return;
  patched = true;
  patchRuntime();
  patchOperators();
  patchCompiler();
}
