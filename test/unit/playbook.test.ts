import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError } from '../../src/core/errors.js';
import type { Task } from '../../src/playbook/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { writePlaybook } from '../helpers/lab.js';
import { Secrets } from '../../src/core/secrets.js';

test('k=v arguments, FQCN, action:, blocks and inheritance', () => {
  const pb = loadPlaybook(
    writePlaybook(`
- hosts: all
  become: yes
  tasks:
    - ansible.builtin.file: path=/x state=directory mode=0755
    - action: copy dest=/y content="a b"
    - shell: echo hi > /tmp/x chdir=/tmp creates=/tmp/x
    - block:
        - command: /bin/true
          tags: inner
      when: ansible_os_family == "Debian"
      tags: [outer]
      become_user: postgres
`),
    { secrets: new Secrets() },
  );
  const [file, copy, shell, block] = pb.plays[0]?.sections[1] ?? [];
  assert.deepEqual((file as Task).args, { path: '/x', state: 'directory', mode: '0755' });
  assert.equal((file as Task).module, 'file');
  assert.deepEqual((copy as Task).args, { dest: '/y', content: 'a b' });
  assert.deepEqual((shell as Task).args, { _raw_params: 'echo hi > /tmp/x', chdir: '/tmp', creates: '/tmp/x' });
  assert.equal(block?.kind, 'block');
  const inner = block?.kind === 'block' ? (block.block[0] as Task) : undefined;
  assert.deepEqual(inner?.when, ['ansible_os_family == "Debian"']);
  assert.deepEqual(inner?.tags, ['outer', 'inner']);
  assert.equal(inner?.become_user, 'postgres');
});

test('roles: defaults, vars, handlers, meta dependencies run once', () => {
  const pb = loadPlaybook(
    writePlaybook('- hosts: all\n  roles:\n    - a\n    - b\n', {
      'roles/a/tasks/main.yml': '- debug: msg=a\n',
      'roles/a/defaults/main.yml': 'a_port: 80\n',
      'roles/a/handlers/main.yml': '- name: restart a\n  debug: msg=r\n',
      'roles/b/meta/main.yml': 'dependencies: [a]\n',
      'roles/b/tasks/main.yml': '- debug: msg=b\n',
      'roles/b/vars/main.yml': 'b_only: 1\n',
    }),
    { secrets: new Secrets() },
  );
  const play = pb.plays[0];
  const tasks = (play?.sections[1] ?? []) as Task[];
  assert.deepEqual(
    tasks.map((t) => `${t.role?.name}:${String(t.args.msg)}`),
    ['a:a', 'b:b'],
  );
  assert.equal(play?.roleDefaults.a_port, 80);
  assert.equal(tasks[1]?.role?.vars.b_only, 1);
  assert.equal(play?.roleVars.b_only, 1, "the play's tasks see its roles' vars");
  assert.deepEqual(
    play?.handlers.map((h) => h.name),
    ['restart a'],
  );
});

const badCases: { name: string; yaml: string; files?: Record<string, string>; error: RegExp; line?: number }[] = [
  {
    name: 'unknown module with a suggestion',
    yaml: '- hosts: all\n  tasks:\n    - name: t\n      cpoy: dest=/x content=y\n',
    error: /unknown keyword or module 'cpoy'|unknown module 'cpoy' \(did you mean 'copy'\?\)/,
    line: 4,
  },
  {
    name: 'unknown parameter with a suggestion',
    yaml: '- hosts: all\n  tasks:\n    - file:\n        path: /x\n        stat: directory\n',
    error: /unsupported parameter 'stat' \(did you mean 'state'\?\)/,
    line: 5,
  },
  {
    name: 'wrong type',
    yaml: '- hosts: all\n  tasks:\n    - sysctl:\n        name: a.b\n        value: 1\n        reload: maybe\n',
    error: /parameter 'reload' must be a boolean/,
    line: 6,
  },
  {
    name: 'bad choice',
    yaml: '- hosts: all\n  tasks:\n    - file: path=/x state=directroy\n',
    error: /must be one of .* \(did you mean 'directory'\?\)/,
    line: 3,
  },
  {
    name: 'two modules in one task',
    yaml: '- hosts: all\n  tasks:\n    - copy: dest=/x content=y\n      file: path=/x\n',
    error: /conflicting action statements: copy, file/,
    line: 3,
  },
  {
    name: 'task without a module',
    yaml: '- hosts: all\n  tasks:\n    - name: nothing\n',
    error: /names no module/,
    line: 3,
  },
  {
    name: 'unknown play keyword',
    yaml: '- hosts: all\n  taks: []\n',
    error: /'taks' is not a valid play keyword \(did you mean 'tasks'\?\)/,
    line: 2,
  },
  { name: 'play without hosts', yaml: '- name: x\n  tasks: []\n', error: /a play needs hosts/, line: 1 },
  { name: 'missing role', yaml: '- hosts: all\n  roles: [nosuchrole]\n', error: /role 'nosuchrole' not found/ },
  {
    name: 'missing tasks file',
    yaml: '- hosts: all\n  tasks:\n    - import_tasks: nothere.yml\n',
    error: /tasks file not found/,
    line: 3,
  },
  {
    name: 'recursive include',
    yaml: '- hosts: all\n  tasks:\n    - import_tasks: a.yml\n',
    files: { 'a.yml': '- import_tasks: b.yml\n', 'b.yml': '- import_tasks: a.yml\n' },
    error: /recursive include: .*a\.yml -> .*b\.yml -> .*a\.yml/,
  },
  {
    name: 'recursive role dependency',
    yaml: '- hosts: all\n  roles: [x]\n',
    files: { 'roles/x/meta/main.yml': 'dependencies: [y]\n', 'roles/y/meta/main.yml': 'dependencies: [x]\n' },
    error: /recursive role dependency: x -> y -> x/,
  },
  { name: 'playbook is not a list', yaml: 'hosts: all\n', error: /a playbook is a list of plays/, line: 1 },
  { name: 'bad serial', yaml: '- hosts: all\n  serial: lots\n  tasks: []\n', error: /serial: 'lots'/ },
  {
    name: 'bad register name',
    yaml: '- hosts: all\n  tasks:\n    - command: id\n      register: my-var\n',
    error: /not a valid variable name/,
    line: 4,
  },
  {
    name: 'loop and with_items together',
    yaml: '- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: [1]\n      with_items: [2]\n',
    error: /either loop or with_items/,
  },
  {
    name: 'unknown loop_control key',
    yaml: '- hosts: all\n  tasks:\n    - debug: msg=x\n      loop: [1]\n      loop_control:\n        lable: x\n',
    error: /unknown loop_control key 'lable'/,
    line: 6,
  },
  {
    name: 'import_tasks with a variable',
    yaml: '- hosts: all\n  tasks:\n    - import_tasks: "{{ f }}.yml"\n',
    error: /import_tasks is static/,
  },
];

for (const c of badCases) {
  test(`bad playbook: ${c.name}`, () => {
    const file = writePlaybook(c.yaml, c.files);
    assert.throws(
      () => loadPlaybook(file, { secrets: new Secrets() }),
      (err: unknown) => {
        assert.ok(err instanceof ParseError, `expected ParseError, got ${String(err)}`);
        assert.match(err.message, c.error);
        if (c.line !== undefined) assert.equal(err.pos?.line, c.line, err.message);
        assert.ok(err.pos?.file, 'error names a file');
        return true;
      },
    );
  });
}

test('a role includes tasks by a path relative to the role (include_tasks: tasks/x.yml), as Ansible finds it', () => {
  const pb = loadPlaybook(
    writePlaybook('- hosts: all\n  roles: [r]\n', {
      'roles/r/tasks/main.yml': '- import_tasks: tasks/set_vars.yml\n- include_tasks: other.yml\n',
      'roles/r/tasks/set_vars.yml': '- debug: msg=from-set-vars\n',
      'roles/r/tasks/other.yml': '- debug: msg=from-other\n',
    }),
    { secrets: new Secrets() },
  );
  const items = pb.plays[0]?.sections[1] ?? [];
  const tasks = items.flatMap((i) =>
    i.kind === 'task'
      ? [i]
      : i.kind === 'include'
        ? (i.preloaded ?? []).filter((t): t is Task => t.kind === 'task')
        : [],
  );
  assert.deepEqual(
    tasks.map((t) => t.args.msg),
    ['from-set-vars', 'from-other'],
  );
  assert.equal(
    items[1]?.kind,
    'include',
    'include_tasks stays an include (decided once per host, counted as Ansible counts it)',
  );
});

test('with_community.general.flattened (and with_flattened) loops over lists of lists flattened to any depth', async () => {
  const { expandLoop } = await import('../../src/executor/loop.js');
  const { VarScope } = await import('../../src/template/scope.js');
  const s = new VarScope([{ name: 'v', vars: {}, templated: false }], (v) => v, {
    lookupPaths: [],
    secrets: new Secrets(),
  });
  assert.deepEqual(expandLoop({ kind: 'flattened', value: [['a', ['b', ['c']]], 'd', null] }, s), ['a', 'b', 'c', 'd']);
  const pb = loadPlaybook(
    writePlaybook(
      '- hosts: all\n  tasks:\n    - debug: msg={{ item }}\n      with_community.general.flattened: [[1], [2, [3]]]\n',
    ),
    { secrets: new Secrets() },
  );
  assert.equal((pb.plays[0]?.sections[1]?.[0] as Task).loop?.kind, 'flattened');
});
