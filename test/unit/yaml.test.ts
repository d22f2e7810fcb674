import { takeLoadWarnings } from '../../src/core/load-warnings.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError } from '../../src/core/errors.js';
import { keyPosition, parseYaml, positionOf } from '../../src/yaml/load.js';
import { Secrets } from '../../src/core/secrets.js';

test('YAML 1.1 as Ansible reads it', () => {
  const v = parseYaml(
    'a: yes\nb: 0644\nc: no\nd: on\ne: y\nf: "0644"\ng: 1.5\nh: ~\n',
    'f.yml',
    new Secrets(),
  ) as Record<string, unknown>;
  assert.deepEqual(v, { a: true, b: 0o644, c: false, d: true, e: 'y', f: '0644', g: 1.5, h: null });
});

test('positions of mappings and keys', () => {
  const v = parseYaml(
    '- name: one\n  debug: msg=x\n- name: two\n  copy:\n    dest: /x\n',
    'p.yml',
    new Secrets(),
  ) as Record<string, unknown>[];
  assert.equal(positionOf(v[1])?.line, 3);
  assert.equal(keyPosition(v[1], 'copy')?.line, 4);
  assert.equal(positionOf((v[1] as Record<string, unknown>).copy)?.line, 5);
});

test('merge keys and anchors', () => {
  const v = parseYaml('base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n', 'm.yml', new Secrets()) as Record<
    string,
    Record<string, number>
  >;
  assert.deepEqual(v.other, { x: 1, y: 3 });
});

test("duplicate keys: the last one wins with Ansible's warning (PyYAML reads them so)", () => {
  takeLoadWarnings();
  const v = parseYaml('a: 1\nb: 2\na: 3\n', 'dup.yml', new Secrets()) as Record<string, number>;
  assert.deepEqual(v, { a: 3, b: 2 });
  assert.deepEqual(takeLoadWarnings(), [
    'While constructing a mapping from dup.yml, line 1, column 1, found a duplicate dict key (a) at line 3. Using last defined value only.',
  ]);
  const merged = parseYaml('base: &b {x: 1}\nother:\n  <<: *b\n  x: 2\n', 'm.yml', new Secrets()) as Record<
    string,
    Record<string, number>
  >;
  assert.deepEqual(merged.other, { x: 2 });
  assert.deepEqual(takeLoadWarnings(), [], 'a key that overrides a merged one is no duplicate');
});

test('a key named __proto__ is data, not the prototype', () => {
  const v = parseYaml('__proto__: {polluted: 1}\n', 'p.yml', new Secrets()) as Record<string, unknown>;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ['__proto__']);
});

test('quoted scalars continued on a less-indented line read as PyYAML reads them', () => {
  const text =
    '- name: x\n  debug:\n    msg: "hello\n  world"\n  when: "a and\nb"\n- shell: \'echo 1\n && echo \'\'2\'\'\'\n  args: {chdir: /tmp}\n- copy:\n    content: |\n      it\'s "raw\n    dest: "/x"\n';
  assert.deepEqual(parseYaml(text, 'q.yml', new Secrets()), [
    { name: 'x', debug: { msg: 'hello world' }, when: 'a and b' },
    { shell: "echo 1 && echo '2'", args: { chdir: '/tmp' } },
    { copy: { content: 'it\'s "raw\n', dest: '/x' } },
  ]);
  assert.equal((parseYaml('a: "x\ny"\nb: 2\n', 'l.yml', new Secrets()) as Record<string, unknown>).b, 2);
  assert.throws(
    () => parseYaml('a: "never closed\nb: 2\n', 'u.yml', new Secrets()),
    /u\.yml:\d+:\d+: YAML syntax error: Missing closing/,
    'an unclosed quote is still an error',
  );
});

for (const [name, text, line] of [
  ['tab indentation', 'a:\n\tb: 1\n', 2],
  ['unclosed flow sequence', 'a: [1, 2\nb: 3\n', 2],
  ['bad indentation', 'a:\n  b: 1\n c: 2\n', 3],
] as const) {
  test(`malformed YAML: ${name} → ParseError with file:line`, () => {
    assert.throws(
      () => parseYaml(text, 'bad.yml', new Secrets()),
      (err: unknown) =>
        err instanceof ParseError &&
        err.pos?.file === 'bad.yml' &&
        err.pos.line === line &&
        err.message.startsWith(`bad.yml:${line}`),
    );
  });
}
