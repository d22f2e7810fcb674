import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError } from '../../src/core/errors.js';
import { keyPosition, parseYaml, positionOf } from '../../src/yaml/load.js';

test('YAML 1.1 as Ansible reads it', () => {
  const v = parseYaml('a: yes\nb: 0644\nc: no\nd: on\ne: y\nf: "0644"\ng: 1.5\nh: ~\n', 'f.yml') as Record<string, unknown>;
  assert.deepEqual(v, { a: true, b: 0o644, c: false, d: true, e: 'y', f: '0644', g: 1.5, h: null });
});

test('positions of mappings and keys', () => {
  const v = parseYaml('- name: one\n  debug: msg=x\n- name: two\n  copy:\n    dest: /x\n', 'p.yml') as Record<string, unknown>[];
  assert.equal(positionOf(v[1])?.line, 3);
  assert.equal(keyPosition(v[1], 'copy')?.line, 4);
  assert.equal(positionOf((v[1] as Record<string, unknown>).copy)?.line, 5);
});

test('merge keys and anchors', () => {
  const v = parseYaml('base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n', 'm.yml') as Record<string, Record<string, number>>;
  assert.deepEqual(v.other, { x: 1, y: 3 });
});

for (const [name, text, line] of [
  ['duplicate keys', 'a: 1\nb: 2\na: 3\n', 3],
  ['tab indentation', 'a:\n\tb: 1\n', 2],
  ['unclosed flow sequence', 'a: [1, 2\nb: 3\n', 2],
  ['bad indentation', 'a:\n  b: 1\n c: 2\n', 3],
] as const) {
  test(`malformed YAML: ${name} → ParseError with file:line`, () => {
    assert.throws(
      () => parseYaml(text, 'bad.yml'),
      (err: unknown) => err instanceof ParseError && err.pos?.file === 'bad.yml' && err.pos.line === line && err.message.startsWith(`bad.yml:${line}`),
    );
  });
}
