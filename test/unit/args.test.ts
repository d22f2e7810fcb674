import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFreeForm, parseKeyValueArgs } from '../../src/playbook/args.js';

test('free-form command: options anywhere, Jinja and quotes kept whole', () => {
  assert.deepEqual(parseFreeForm('touch {{ root }}/x creates={{ root }}/x', '_raw_params'), {
    _raw_params: 'touch {{ root }}/x',
    creates: '{{ root }}/x',
  });
  assert.deepEqual(parseFreeForm('chdir=/tmp echo "a  b" > out', '_raw_params'), {
    _raw_params: 'echo "a  b" > out',
    chdir: '/tmp',
  });
  assert.deepEqual(parseFreeForm("sh -c 'echo done > /x' creates=/x", '_raw_params'), {
    _raw_params: "sh -c 'echo done > /x'",
    creates: '/x',
  });
  assert.deepEqual(parseFreeForm('echo key=value', '_raw_params'), { _raw_params: 'echo key=value' });
});

test('k=v arguments: quotes, Jinja with spaces, escapes', () => {
  assert.deepEqual(parseKeyValueArgs('path=/x/{{ item }} state=touch'), { path: '/x/{{ item }}', state: 'touch' });
  assert.deepEqual(parseKeyValueArgs('content="a b\\nc" mode=0644'), { content: 'a b\nc', mode: '0644' });
  assert.deepEqual(parseKeyValueArgs('msg=\'it is {{ x | default("y z") }}\''), {
    msg: 'it is {{ x | default("y z") }}',
  });
});

test("k=v values keep quotes that do not wrap the whole value, as Ansible's parse_kv", () => {
  assert.deepEqual(parseKeyValueArgs(`var=d['missing'] msg="a b" path='/x y' expr=a"b"c`), {
    var: "d['missing']",
    msg: 'a b',
    path: '/x y',
    expr: 'a"b"c',
  });
  assert.deepEqual(parseKeyValueArgs('msg="say \\"hi\\""'), { msg: 'say "hi"' });
});
