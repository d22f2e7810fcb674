import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModuleError } from '../../../src/core/errors.js';
import { expandLoop, loopItem } from '../../../src/executor/loop.js';
import { label } from '../../../src/executor/task-report.js';
import type { LoopSpec } from '../../../src/playbook/model.js';
import { runMockPlaybook, warnings } from '../../helpers/mock-transport.js';
import { scopeOf, taskOf } from '../../helpers/playbook.js';

const expand = (kind: LoopSpec['kind'], value: unknown, vars: Record<string, unknown> = {}) =>
  expandLoop({ kind, value }, scopeOf(vars));

test('loop: the templated list as it is; a mapping is an error that points at dict2items', () => {
  assert.deepEqual(expand('loop', '{{ xs }}', { xs: [1, [2, 3]] }), [1, [2, 3]]);
  assert.deepEqual(expand('loop', '{{ none }}', { none: null }), [], 'null: no items');
  assert.throws(
    () => expand('loop', '{{ d }}', { d: { a: 1 } }),
    (e) =>
      e instanceof ModuleError && /loop needs a list, got a mapping/.test(e.message) && /dict2items/.test(e.hint ?? ''),
  );
  assert.throws(() => expand('loop', 'one'), /loop needs a list, got "one"/, 'a string is not a list for loop:');
});

test('with_items: flattens one level and takes a lone string as one item; with_list does not flatten', () => {
  assert.deepEqual(expand('items', [1, [2, [3]], 'x']), [1, 2, [3], 'x']);
  assert.deepEqual(expand('items', 'solo'), ['solo']);
  assert.deepEqual(expand('list', [1, [2, 3]]), [1, [2, 3]]);
});

test('with_indexed_items and with_dict: [index, item] pairs and {key, value} in the mapping order', () => {
  assert.deepEqual(expand('indexed_items', ['a', 'b']), [
    [0, 'a'],
    [1, 'b'],
  ]);
  assert.deepEqual(expand('dict', '{{ users }}', { users: { bob: 1, al: 2 } }), [
    { key: 'bob', value: 1 },
    { key: 'al', value: 2 },
  ]);
  assert.throws(() => expand('dict', [1]), /with_dict needs a mapping/);
});

test('with_together pads the shorter lists with null; with_nested is the cross product in order', () => {
  assert.deepEqual(expand('together', [[1, 2, 3], ['a']]), [
    [1, 'a'],
    [2, null],
    [3, null],
  ]);
  assert.deepEqual(
    expand('nested', [
      [1, 2],
      ['a', 'b'],
    ]),
    [
      [1, 'a'],
      [1, 'b'],
      [2, 'a'],
      [2, 'b'],
    ],
  );
});

test('with_flattened: lists at any depth become one list, nulls dropped', () => {
  assert.deepEqual(expand('flattened', [1, [2, [3, [null, 4]]]]), [1, 2, 3, 4]);
});

test('with_subelements: each element paired with each entry of its named sub-list', () => {
  const users = [
    { name: 'a', keys: ['k1', 'k2'] },
    { name: 'b', keys: ['k3'] },
  ];
  assert.deepEqual(
    expand('subelements', [users, 'keys']).map((p) => {
      const [u, k] = p as [{ name: string }, string];
      return `${u.name}:${k}`;
    }),
    ['a:k1', 'a:k2', 'b:k3'],
  );
});

test('with_sequence: start-end/stride:format, key=value form, count, zero padding and hex', () => {
  assert.deepEqual(expand('sequence', '1-3'), ['1', '2', '3']);
  assert.deepEqual(expand('sequence', '0-10/5:host%02d'), ['host00', 'host05', 'host10']);
  assert.deepEqual(expand('sequence', 'start=4 count=3 stride=2'), ['4', '6', '8']);
  assert.deepEqual(expand('sequence', 'start=8 end=11 format=%x'), ['8', '9', 'a', 'b']);
  assert.deepEqual(expand('sequence', 'start=3 end=1 stride=-1'), ['3', '2', '1'], 'counts down');
  assert.deepEqual(expand('sequence', 'start={{ a }} end={{ a }}', { a: 7 }), ['7'], 'templated first');
});

test('with_fileglob: files (not directories) whose name matches, sorted, relative to the lookup paths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-fileglob-'));
  mkdirSync(join(dir, 'files'));
  for (const f of ['b.conf', 'a.conf', 'c.txt']) writeFileSync(join(dir, 'files', f), '');
  mkdirSync(join(dir, 'files', 'd.conf'));
  const s = scopeOf({}, [dir]);
  assert.deepEqual(expandLoop({ kind: 'fileglob', value: ['files/*.conf'] }, s), [
    join(dir, 'files', 'a.conf'),
    join(dir, 'files', 'b.conf'),
  ]);
  assert.deepEqual(expandLoop({ kind: 'fileglob', value: [`${dir}/files/*.txt`] }, s), [join(dir, 'files', 'c.txt')]);
  assert.deepEqual(expandLoop({ kind: 'fileglob', value: ['nowhere/*'] }, s), [], 'no match: no items');
});

test('loopItem: `item` by default; loop_var and index_var (templated) name the variables the item sees', () => {
  const t = taskOf('{ debug: "msg={{ pkg }}", loop: [a, b], loop_control: { loop_var: "{{ lv }}", index_var: i } }');
  const { perItem, itemScope } = loopItem(t, scopeOf({ lv: 'pkg' }), ['a', 'b'], 1);
  assert.deepEqual(perItem, { pkg: 'b', ansible_loop_var: 'pkg', i: 1, ansible_index_var: 'i' });
  assert.equal(itemScope.get('pkg'), 'b');
  assert.equal(itemScope.get('i'), 1);
  const plain = loopItem(taskOf('{ debug: msg=x, loop: [a] }'), scopeOf(), ['a'], 0);
  assert.equal(plain.itemScope.get('item'), 'a');
});

test('loopItem: loop_control.extended puts ansible_loop (counters, all/prev/next items) in the item scope and result', () => {
  const ext = loopItem(
    taskOf('{ debug: msg=x, loop: [a, b, c], loop_control: { extended: true } }'),
    scopeOf(),
    ['a', 'b', 'c'],
    2,
  );
  const expected = {
    index: 3,
    index0: 2,
    first: false,
    last: true,
    length: 3,
    revindex: 1,
    revindex0: 0,
    allitems: ['a', 'b', 'c'],
    previtem: 'b',
  };
  assert.deepEqual(ext.perItem.ansible_loop, expected, 'no nextitem on the last item');
  assert.deepEqual(ext.itemScope.get('ansible_loop'), expected);
  const first = loopItem(
    taskOf('{ debug: msg=x, loop: [a, b], loop_control: { extended: true, extended_allitems: false } }'),
    scopeOf(),
    ['a', 'b'],
    0,
  );
  assert.deepEqual(
    first.perItem.ansible_loop,
    { index: 1, index0: 0, first: true, last: false, length: 2, revindex: 2, revindex0: 1, nextitem: 'b' },
    'no previtem on the first item; no allitems with extended_allitems: false',
  );
});

test('loopItem: without loop_control.extended, ansible_loop is undefined in the item scope and result (as Ansible 2.14)', () => {
  const plain = loopItem(taskOf('{ debug: msg=x, loop: [a, b, c] }'), scopeOf(), ['a', 'b', 'c'], 1);
  assert.equal(plain.itemScope.get('ansible_loop'), undefined);
  assert.deepEqual(plain.perItem, { item: 'b', ansible_loop_var: 'item' }, 'no ansible_loop, no ansible_index_var');
});

test('label: loop_control.label templated with the item; else the item itself (a mapping in Python repr)', () => {
  const t = taskOf('{ debug: msg=x, loop: [], loop_control: { label: "{{ item.name }}" } }');
  assert.equal(label(t, { name: 'web', secret: 's' }, scopeOf({ item: { name: 'web', secret: 's' } })), 'web');
  const plain = taskOf('{ debug: msg=x, loop: [] }');
  assert.equal(label(plain, 'pkg', scopeOf()), 'pkg');
  assert.equal(label(plain, { a: 1 }, scopeOf()), "{'a': 1}");
});

test('a looped task on a host: one result per item, labelled, registered as results[] in item order', async () => {
  const m = await runMockPlaybook(
    `- hosts: h1
  gather_facts: false
  tasks:
    - debug: msg="{{ item.key }}"
      with_dict: { x: 1, y: 2 }
      loop_control: { label: "{{ item.key }}" }
      register: r
    - assert: { that: "r.results | map(attribute='msg') | list == ['x', 'y']" }
`,
  );
  const items = m.events.flatMap((e) => (e.type === 'host_result' && e.item !== undefined ? [e.item] : []));
  assert.deepEqual(items, ['x', 'y']);
  const statuses = m.events.flatMap((e) => (e.type === 'host_result' ? [`${e.module} ${e.status}`] : []));
  assert.deepEqual(statuses, ['debug ok', 'debug ok', 'assert ok'], 'the assert on the registered results passed');
});

test("a loop inside an included file's loop: Ansible's warning that the loop variable is already in use, per host", async () => {
  const warned = async (loopControl: string) =>
    warnings(
      (
        await runMockPlaybook(
          `- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: inner.yml
      loop: [a]
`,
          'h1\nh2\n',
          { files: { 'inner.yml': `- name: inner\n  debug: msg=x\n  loop: [x]\n${loopControl}` } },
        )
      ).events,
    );
  const msg =
    "TASK: inner: The loop variable 'item' is already in use. You should set the `loop_var` value in the " +
    '`loop_control` option for the task to something else to avoid variable collisions and unexpected behavior.';
  assert.deepEqual(await warned(''), [msg, msg]);
  assert.deepEqual(await warned('  loop_control: { loop_var: inner_item }\n'), [], 'another loop_var: no warning');
});
