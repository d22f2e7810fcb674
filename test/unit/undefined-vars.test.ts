import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPlaybook } from '../../src/playbook/load.js';
import { findUndefined } from '../../src/playbook/undefined-vars.js';
import { writePlaybook } from '../helpers/lab.js';

/** The names reported (name@line), or the reason the check says nothing. */
function check(yaml: string, files: Record<string, string> = {}, known: string[] = []): string[] | string {
  const pb = writePlaybook(yaml, files);
  const r = findUndefined(loadPlaybook(pb), known);
  return r.openBecause ?? r.uses.map((u) => `${u.name}@${u.pos.file.endsWith('.j2') ? `${u.pos.file.split('/').pop()}:` : ''}${u.pos.line}${u.didYouMean ? `~${u.didYouMean}` : ''}`);
}

test('undefined variables: a name defined nowhere is reported with the task line and a suggestion', () => {
  const r = check(`- hosts: all
  vars:
    greeting: hi
  tasks:
    - copy: content="{{ greeting }}" dest=/tmp/a
    - debug: msg=second
    - copy: content="{{ greting }}" dest=/tmp/b
    - command: echo {{ other_missing.attr | upper }}
    - debug: msg=x
      when: not_there_either == 1
    - assert:
        that: also_missing > 1
`);
  assert.deepEqual(r, ['greting@7~greeting', 'other_missing@8', 'not_there_either@9', 'also_missing@11']);
});

test('undefined variables: every source that defines a name is seen (nothing reported)', () => {
  const r = check(
    `- hosts: all
  vars_files: [vars/common.yml]
  roles: [web]
  tasks:
    - command: uname -r
      register: kernel
    - set_fact:
        derived: "{{ kernel.stdout }}"
    - include_vars: extra.yml
    - include_vars:
        file: named.yml
        name: bundle
    - package_facts:
    - debug: msg="{{ derived }} {{ from_files }} {{ from_extra }} {{ bundle.x }} {{ packages | length }} {{ from_inventory }}"
    - debug: msg="{{ item }} {{ port }} {{ i }}"
      loop: [1, 2]
      loop_control:
        loop_var: port
        index_var: i
    - debug: msg="{{ inventory_hostname }} {{ hostvars | length }} {{ groups.all }} {{ group_names }} {{ ansible_facts.os_family }} {{ ansible_check_mode }} {{ playbook_dir }} {{ omit }}"
    - debug: msg="{% for x in range(3) %}{{ x }}{{ loop.index }}{% endfor %}{% set y = 1 %}{{ y }} {{ lookup('env', 'HOME') }}"
    - debug: msg="{{ role_default }}"
`,
    {
      'vars/common.yml': 'from_files: 1\n',
      'vars/extra.yml': 'from_extra: 2\n',
      'vars/named.yml': 'x: 3\n',
      'roles/web/defaults/main.yml': 'role_default: 4\n',
      'roles/web/tasks/main.yml': '- debug: msg="{{ role_default }}"\n',
    },
    ['from_inventory'],
  );
  assert.deepEqual(r, []);
});

test('undefined variables: names that may be defined at run time say nothing', () => {
  // set_fact with a templated key: anything may be defined
  const setFact = check(`- hosts: all
  tasks:
    - set_fact:
        "{{ item.key }}": "{{ item.value }}"
      loop: [{key: a, value: 1}]
    - debug: msg="{{ a }}"
`);
  assert.match(String(setFact), /set_fact with the templated name/);
  // include_vars of a templated file name that matches no file here: anything may be defined
  const noMatch = check(`- hosts: all
  tasks:
    - include_vars: "{{ ansible_distribution }}.yml"
    - debug: msg="{{ distro_package }}"
`);
  assert.match(String(noMatch), /no file matches/);
  // ... and one that matches files: the names of every file it may load
  const matches = check(
    `- hosts: all
  tasks:
    - include_vars: "{{ ansible_distribution }}.yml"
    - debug: msg="{{ distro_package }}"
    - debug: msg="{{ typo_package }}"
`,
    { 'vars/Debian.yml': 'distro_package: a\n', 'vars/RedHat.yml': 'distro_package: b\n' },
  );
  assert.deepEqual(matches, ['typo_package@5']);
});

test('undefined variables: guarded names and tasks that expect to fail are not reported', () => {
  const r = check(`- hosts: all
  tasks:
    - debug: msg="{{ maybe }}"
      when: maybe is defined
    - debug: msg="{{ opt | default('x') }} {{ opt2.sub | d(1) }}"
    - debug: msg="{{ missing_but_ignored }}"
      ignore_errors: true
    - block:
        - debug: msg="{{ missing_in_rescued_block }}"
      rescue:
        - debug: msg=rescued
    - debug: msg="{{ item }}"
      loop: "{{ never_defined_list }}"
      when: false
    - debug: var=not_defined_is_printed_as_such
`);
  assert.deepEqual(r, []);
});

test('undefined variables: a template file is read too, its own file:line named; loops behind a condition are not reported', () => {
  const r = check(
    `- hosts: all
  vars:
    port: 80
  tasks:
    - template: src=app.conf.j2 dest=/etc/app.conf
    - debug: msg="{{ item }}"
      loop: "{{ only_on_some_hosts }}"
      when: inventory_hostname == 'web1'
`,
    { 'templates/app.conf.j2': '# {{ ansible_managed }}\nport={{ port }}\n{% for u in upstreams %}\nserver {{ u }}\n{% endfor %}\n' },
  );
  assert.equal(Array.isArray(r) ? r.length : r, 1);
  assert.match(String(r), /^upstreams@app\.conf\.j2:3$/);
});
