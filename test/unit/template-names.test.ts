import assert from 'node:assert/strict';
import { test } from 'node:test';
import { namesInExpression, namesInTemplate } from '../../src/template/names.js';

const used = (text: string) => [...namesInTemplate(text).used].sort();
const guarded = (text: string) => [...namesInTemplate(text).guarded].sort();

test('template names: variables read, not attributes, filters, tests, functions, keyword arguments or keywords', () => {
  assert.deepEqual(used('{{ a.b.c | join(sep) }} {{ d["k"] }} {{ e is match("x") }} {{ lookup("env", "HOME") }}'), [
    'a',
    'd',
    'e',
    'sep',
  ]);
  assert.deepEqual(used('{{ x | combine(y, recursive=True) }} {{ z if cond else none }} {{ not flag and other }}'), [
    'cond',
    'flag',
    'other',
    'x',
    'y',
    'z',
  ]);
  assert.deepEqual(used("{{ {'k': v, 'n': 1} }} {{ [p, q][0] }} {{ r.items() | list }} {{ 1 in s }}"), [
    'p',
    'q',
    'r',
    's',
    'v',
  ]);
  assert.deepEqual(used('{# {{ hidden }} #}{{ "text" }}'), []);
});

test('template names: locals of for, set and macro are not variables of the play', () => {
  assert.deepEqual(used('{% for k, v in pairs %}{{ k }}={{ v }}{{ loop.index }}{% endfor %}'), ['pairs']);
  assert.deepEqual(used('{% set total = base + 1 %}{{ total }}{% macro m(a, b=2) %}{{ a }}{{ b }}{% endmacro %}'), [
    'base',
  ]);
});

test('template names: default and defined tests guard a name (also through attributes and subscripts)', () => {
  assert.deepEqual(
    guarded('{{ a | default(1) }} {{ b.c["d"] | d }} {{ e is defined }} {{ f is not undefined }} {{ g is string }}'),
    ['a', 'b', 'e', 'f'],
  );
  assert.deepEqual([...namesInExpression('use_tls and tls_cert is defined').guarded], ['tls_cert']);
  assert.deepEqual([...namesInExpression("ansible_os_family == 'Debian'").used], ['ansible_os_family']);
});
