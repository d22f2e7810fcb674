import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pyFormat, pyJson, pyTypeName, sortKeys } from '../../src/template/python-format.js';

// expected values printed by python3 for the same input
test("pyFormat: Python's % conversions with flags, width and precision", () => {
  assert.equal(
    pyFormat('%5.2f|%-4s|%05d|%x|%X|%o|%e|%%|%r', [3.14159, 'ab', -42, 255, 255, 8, 12345.678, 'q']),
    " 3.14|ab  |-0042|ff|FF|10|1.234568e+04|%|'q'",
  );
});

test("pyJson: json.dumps separators (', ' and ': ') and non-ASCII escaped; sortKeys orders nested dicts", () => {
  assert.equal(pyJson({ b: [1, 'é'], a: null }), '{"b": [1, "\\u00e9"], "a": null}');
  assert.equal(
    pyJson(sortKeys({ b: { d: 1, c: 2 }, a: [{ z: 1, y: 2 }] })),
    '{"a": [{"y": 2, "z": 1}], "b": {"c": 2, "d": 1}}',
  );
});

test("pyTypeName: Python's type names as type_debug prints them", () => {
  assert.deepEqual([null, 'x', true, 1, 1.5, [], {}].map(pyTypeName), [
    'NoneType',
    'str',
    'bool',
    'int',
    'float',
    'list',
    'dict',
  ]);
});
