import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TemplateError } from '../../src/core/errors.js';
import { evalCondition, renderString, renderText, renderValue } from '../../src/template/env.js';
import { VarScope } from '../../src/template/scope.js';
import { Secrets } from '../../src/core/secrets.js';

// One test per nunjucks patch, numbered as in src/template/nunjucks-patches.ts (which lists the file of each).
// Each fails on unpatched nunjucks.

function scope(vars: Record<string, unknown>): VarScope {
  return new VarScope([{ name: 'vars', vars, templated: true }], (v, s) => renderValue(v, s), {
    lookupPaths: [],
    secrets: new Secrets(),
  });
}
const s = scope({ name: 'web', port: '{{ 8000 + 80 }}', list: ['a', 'b'], d: { k: 'v' }, empty: [], none: null });

test('patch 1: names resolve through the VarScope (templated lazily), the template module vars win, a missing name fails', () => {
  assert.equal(renderString('{{ port }}', s), '8080');
  assert.equal(renderText('{{ name }}', s, {}, { over: { name: 'over' } }), 'over');
  assert.throws(() => renderString('{{ nope }}', s), /'nope' is undefined/);
});

test('patch 2: attribute lookups offer Python methods on strings, lists and dicts; a missing one is undefined', () => {
  assert.equal(renderString("{{ name.startswith('w') }}", s), true);
  assert.equal(renderString("{{ list.index('b') }}", s), '1');
  assert.equal(renderString("{{ d.get('x', 'dflt') }}", s), 'dflt');
  assert.equal(renderString('{{ list[-1] }}', s), 'b');
  assert.throws(() => renderString('{{ d.missing }}', s), /'dict object' has no attribute 'missing'/);
});

test("patch 3: a called expression holding a newline literal compiles ('\\n'.join)", () => {
  assert.equal(renderText("{{ '\\n'.join(list) }}", s), 'a\nb');
});

test("patch 4: 'x' in an undefined name fails instead of answering false", () => {
  assert.throws(() => renderString("{{ 'x' in missing }}", s), /'missing' is undefined/);
  assert.equal(renderString("{{ 'a' in list }}", s), true);
});

test("patch 5: printed values look like Python's; printing an undefined value fails", () => {
  assert.equal(renderText('{{ true }} {{ none }} {{ list }}', s), "True None ['a', 'b']");
  assert.throws(() => renderText('x{{ missing }}', s), TemplateError);
});

test('patch 6: a test with several arguments compiles (commas between them)', () => {
  assert.equal(renderString("{{ '1.2' is version('1.10', '<') }}", s), true);
});

test("patch 7: == and != compare as Python: lists by content, '1' != 1; comparisons chain", () => {
  assert.equal(renderString("{{ list == ['a', 'b'] }}", s), true);
  assert.equal(renderString("{{ '1' == 1 }}", s), false);
  assert.equal(renderString('{{ 1 < 2 < 3 }}', s), true);
  assert.equal(renderString('{{ 3 > 2 > 2 }}', s), false);
});

test('patch 8: + as Python: lists concatenate, str + int is an error', () => {
  assert.deepEqual(renderString("{{ list + ['c'] }}", s), ['a', 'b', 'c']);
  assert.throws(() => renderString("{{ 'a' + 1 }}", s), /can only concatenate str \(not "int"\) to str/);
});

test('patch 9: conditional expressions chain (a if x else b if y else c)', () => {
  assert.equal(renderString("{{ 'a' if false else 'b' if false else 'c' }}", s), 'c');
});

test('patch 10: if, inline if and not use Python truthiness (an empty list is false)', () => {
  assert.equal(evalCondition('empty', s), false);
  assert.equal(evalCondition('not empty', s), true);
  assert.equal(renderText("{% if empty %}yes{% else %}no{% endif %}{{ 'y' if d else 'n' }}", s), 'noy');
});

test('patch 11: a for loop over an undefined name or None fails instead of looping zero times', () => {
  assert.throws(() => renderText('{% for x in missing %}{{ x }}{% endfor %}', s), /'missing' is undefined/);
  assert.throws(() => renderText('{% for x in none %}{{ x }}{% endfor %}', s), /'NoneType' object is not iterable/);
});
