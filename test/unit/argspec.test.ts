import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secrets } from '../../src/core/secrets.js';
import { SpecCrash, validateArgumentSpec } from '../../src/modules/argspec.js';
import { validationTask } from '../../src/playbook/argument-specs.js';
import type { RoleContext } from '../../src/playbook/model.js';

// Messages as ansible-playbook 2.14 prints them (checked with validate_argument_spec, ANSIBLE_STDOUT_CALLBACK=json).
const U = "<class 'ansible.parsing.yaml.objects.AnsibleUnicode'>";

test('argspec types: values that convert pass (int " 12 ", float " 1e3 ", bool " YES ", dict key=value, bits, bytes)', () => {
  const spec = {
    i: { type: 'int' },
    f: { type: 'float' },
    b: { type: 'bool' },
    d: { type: 'dict' },
    p: { type: 'dict' },
    bits: { type: 'bits' },
    bytes: { type: 'bytes' },
    s: { type: 'str' },
    r: { type: 'raw' },
    j: { type: 'json' },
  };
  const values = { i: ' 12 ', f: ' 1e3 ', b: ' YES ', d: "x=1 y='2 3'", p: "{'a': 1}", bits: '1Mb', bytes: '2KB' };
  assert.deepEqual(validateArgumentSpec(spec, { ...values, s: 5, r: [1], j: { a: 1 } }), []);
});

test('argspec types: the messages of failed conversions, per type, and of an unknown type name', () => {
  const spec = {
    i: { type: 'int' },
    f: { type: 'float' },
    l: { type: 'list', elements: 'int' },
    j: { type: 'jsonarg' },
    by: { type: 'bytes' },
    bi: { type: 'bits' },
    d: { type: 'dict' },
    w: { type: 'string' },
  };
  const values = { i: 'abc', f: 'x1', l: '1,b', j: 5, by: '1Q', bi: '1MB', d: 'nope', w: 'hi' };
  assert.deepEqual(validateArgumentSpec(spec, values), [
    `argument 'i' is of type ${U} and we were unable to convert to int: ${U} cannot be converted to an int`,
    `argument 'f' is of type ${U} and we were unable to convert to float: ${U} cannot be converted to a float`,
    "Elements value for option 'l' is of type <class 'str'> and we were unable to convert to int: <class 'str'> cannot be converted to an int",
    "argument 'j' is of type <class 'int'> and we were unable to convert to jsonarg: <class 'int'> cannot be converted to a json string",
    `argument 'by' is of type ${U} and we were unable to convert to bytes: ${U} cannot be converted to a Byte value`,
    `argument 'bi' is of type ${U} and we were unable to convert to bits: ${U} cannot be converted to a Bit value`,
    `argument 'd' is of type ${U} and we were unable to convert to dict: dictionary requested, could not parse JSON or key=value`,
    `argument 'w' is of type ${U} and we were unable to convert to string: 'NoneType' object is not callable`,
  ]);
  const [bool] = validateArgumentSpec({ b: { type: 'bool' } }, { b: 'maybe' });
  assert.match(
    bool ?? '',
    /^argument 'b' is of type .* bool: The value 'maybe' is not a valid boolean\. {2}Valid booleans/,
  );
});

test('argspec: required, choices, nested options, aliases, unsupported names, required_* in a dict option', () => {
  const spec = {
    a: { type: 'str', required: true },
    c: { type: 'str', choices: ['one', 'two'] },
    m: { type: 'list', choices: ['x', 'y'] },
    o: {
      type: 'dict',
      options: { x: { type: 'int', required: true }, y: {}, z: {} },
      mutually_exclusive: [['y', 'z']],
      required_by: { y: 'q' },
      required_if: [['y', 1, ['x', 'q']]],
    },
    b: { aliases: ['bb', 'ba'] },
  };
  assert.deepEqual(validateArgumentSpec(spec, { c: 'three', m: 'x,w', o: { y: 1, z: 2, k: 0 }, bb: 'v', e: 1 }), [
    'missing required arguments: a',
    'value of c must be one of: one, two, got: three',
    'value of m must be one or more of: x, y. Got no match for: w',
    'parameters are mutually exclusive: y|z found in o',
    'missing required arguments: x found in o',
    "missing parameter(s) required by 'y': q found in o",
    'e, o.k. Supported parameters include: x, y, z.',
  ]);
  assert.deepEqual(
    validateArgumentSpec(
      { l: { type: 'list', elements: 'dict', options: { n: {} }, required_together: [['n', 'p']] } },
      { l: [{ n: 1 }, 3] },
    ),
    [
      "Value '3' in the sub parameter field 'l' must by a list, not 'int'",
      "Elements value for option 'l' is of type <class 'int'> and we were unable to convert to dict: <class 'int'> cannot be converted to a dict",
      'parameters are required together: n, p found in l',
    ],
  );
});

test('argspec: only checks (the values given are not converted), defaults count, a bad default/required pair is reported', () => {
  const values = { n: '5', l: 'a,b' };
  assert.deepEqual(validateArgumentSpec({ n: { type: 'int' }, l: { type: 'list' } }, values), []);
  assert.deepEqual(values, { n: '5', l: 'a,b' });
  assert.deepEqual(validateArgumentSpec({ n: { type: 'int', default: 'x' } }, {}), [
    `argument 'n' is of type ${U} and we were unable to convert to int: ${U} cannot be converted to an int`,
  ]);
  assert.deepEqual(validateArgumentSpec({ n: { required: true, default: 3 } }, {}), [
    'internal error: required and default are mutually exclusive for n',
  ]);
});

test('argspec hostile input: an option spec that is no dict, choices that are no list, quotes and newlines, deep values', () => {
  assert.throws(
    () => validateArgumentSpec({ a: 'str' }, {}),
    (e: unknown) => e instanceof SpecCrash && /'AnsibleUnicode' object has no attribute 'get'/.test(e.message),
  );
  assert.throws(() => validateArgumentSpec({ a: null }, {}), /'NoneType' object has no attribute 'get'/);
  assert.deepEqual(validateArgumentSpec({ a: { choices: 'ab' } }, { a: 'a' }), [
    'internal error: choices for argument a are not iterable: ab',
  ]);
  assert.deepEqual(validateArgumentSpec({ a: { choices: ['x'] } }, { a: 'it\'s\n"q"' }), [
    `value of a must be one of: x, got: it's\n"q"`,
  ]);
  let deep: unknown = 1;
  for (let i = 0; i < 5000; i++) deep = [deep];
  assert.deepEqual(validateArgumentSpec({ a: { type: 'raw' } }, { a: deep }), []);
  let spec: Record<string, unknown> = {};
  const root = spec;
  for (let i = 0; i < 100; i++) {
    const options = {};
    spec.a = { type: 'dict', options, apply_defaults: true };
    spec = options;
  }
  assert.throws(() => validateArgumentSpec(root, {}), SpecCrash);
});

function roleWith(files: Record<string, string>): RoleContext {
  const path = mkdtempSync(join(tmpdir(), 'orch-argspec-'));
  mkdirSync(join(path, 'meta'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(path, 'meta', name), text);
  return { name: 'r', path, defaults: {}, vars: {}, params: {} };
}

test('argument specs of a role: the entry point used, argument_specs.yml over meta/main.yml, its task name and tags', () => {
  const both = roleWith({
    'argument_specs.yml': 'argument_specs:\n  main:\n    short_description: Main\n    options: {a: {type: int}}\n',
    'main.yml': 'argument_specs:\n  main:\n    options: {b: {}}\n  other: {}\n',
  });
  const v = validationTask(both, 'main', { a: 1 }, false, new Secrets());
  assert.deepEqual(v?.task, {
    name: "Validating arguments against arg spec 'main' - Main",
    'ansible.builtin.validate_argument_spec': {
      argument_spec: { a: { type: 'int' } },
      provided_arguments: { a: 1 },
      validate_args_context: { type: 'role', name: 'r', argument_spec_name: 'main', path: both.path },
    },
    tags: ['always'],
  });
  assert.equal(validationTask(both, 'other', {}, false, new Secrets()), undefined, 'argument_specs.yml wins entirely');
  const meta = roleWith({ 'main.yml': 'argument_specs:\n  other:\n    options: {b: {}}\n' });
  assert.equal(validationTask(meta, 'main', {}, false, new Secrets()), undefined);
  assert.deepEqual(validationTask(meta, 'other', {}, true, new Secrets())?.task.tags, [], 'include_role: its tags');
  assert.throws(
    () => validationTask(roleWith({ 'argument_specs.yml': 'argument_specs: [1]\n' }), 'main', {}, false, new Secrets()),
    /argument_specs of role 'r' must be a mapping/,
  );
  assert.throws(
    () =>
      validationTask(
        roleWith({ 'argument_specs.yml': 'argument_specs: {main: x}\n' }),
        'main',
        {},
        false,
        new Secrets(),
      ),
    /argument_specs.main of role 'r' must be a mapping/,
  );
});
