import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combine, list, uniq } from '../../src/template/collections.js';

test('collections: list() of a string and a dict, uniq by value, combine shallow and recursive', () => {
  assert.deepEqual(list('ab'), ['a', 'b']);
  assert.deepEqual(list({ k: 1, l: 2 }), ['k', 'l']);
  assert.deepEqual(uniq([{ a: 1 }, { a: 1 }, 2]), [{ a: 1 }, 2]);
  const a = { x: { p: 1, q: 1 }, y: 1 };
  const b = { x: { q: 2 } };
  assert.deepEqual(combine(a, b), { x: { q: 2 }, y: 1 });
  assert.deepEqual(combine(a, b, { __keywords: true, recursive: true }), { x: { p: 1, q: 2 }, y: 1 });
});
