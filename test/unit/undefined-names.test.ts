import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { loadPlaybook } from '../../src/playbook/load.js';
import { refuseUndefinedNames, undefinedNames } from '../../src/playbook/undefined-names.js';
import { Secrets } from '../../src/core/secrets.js';

// The check before any connection (issue 19): a name defined nowhere is an error naming file:line where a run
// surely reaches it, a warning where a condition may skip it, and nothing where it may be defined at run time.
function playbook(tasks: string, files: Record<string, string> = {}, head = ''): ReturnType<typeof loadPlaybook> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-undef-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  writeFileSync(join(dir, 'pb.yml'), `- hosts: all\n  gather_facts: no\n${head}  tasks:\n${tasks}`);
  return loadPlaybook(join(dir, 'pb.yml'), { secrets: new Secrets() });
}

const report = (pb: ReturnType<typeof loadPlaybook>, outside: string[] = []) =>
  undefinedNames(pb, outside, new Secrets()).map((u) => `${u.name}@${u.pos.line}:${u.sure ? 'error' : 'warning'}`);

test('undefined names: the third task reading a name defined nowhere is an error at its line, before anything runs', () => {
  const pb = playbook(
    '    - file: path=/tmp/a state=touch\n    - file: path=/tmp/b state=touch\n    - copy: dest=/tmp/c content="{{ relase_id }}"\n',
  );
  assert.deepEqual(report(pb), ['relase_id@6:error']);
  assert.throws(() => refuseUndefinedNames(pb, [], new Secrets()), /pb\.yml:6.*'relase_id' is undefined/);
});

test('undefined names: a typo in a when is an error; a name behind a condition, a loop or in a handler is only a warning', () => {
  const pb = playbook(
    '    - debug: msg=x\n      when: enable_featur\n    - debug: msg="{{ tls_cert }}"\n      when: use_tls | default(false)\n    - debug: msg="{{ item }} {{ extra }}"\n      loop: [1]\n',
  );
  assert.deepEqual(report(pb), ['enable_featur@4:error', 'tls_cert@6:warning', 'extra@8:warning']);
});

test('undefined names: every source of a definition is seen (vars, vars_files, register, set_fact, include_vars, loop_var, inventory, -e, facts, magic)', () => {
  const pb = playbook(
    [
      '    - command: "echo {{ from_play }} {{ from_file }} {{ inventory_name }} {{ extra }}"',
      '      register: out',
      '    - set_fact: made="{{ out.stdout }}"',
      '    - include_vars: more.yml',
      '    - debug: msg="{{ made }} {{ from_include }} {{ ansible_hostname }} {{ inventory_hostname }} {{ groups.all }} {{ omit }}"',
      '    - debug: msg="{{ x }}"',
      '      loop: [1]',
      '      loop_control: {loop_var: x}',
      '    - getent: database=passwd',
      '    - debug: msg="{{ getent_passwd }} {{ maybe | default(1) }} {% for u in users_list | default([]) %}{{ u }}{% endfor %}"',
      '      when: maybe2 is defined and maybe2',
      '',
    ].join('\n'),
    { 'vars.yml': 'from_file: 1\n', 'more.yml': 'from_include: 2\n' },
    '  vars:\n    from_play: 1\n  vars_files: [vars.yml]\n',
  );
  assert.deepEqual(report(pb, ['inventory_name', 'extra']), []);
});

test('undefined names: nothing is reported where a name may be defined at run time (templated include_vars or set_fact key, a runtime include)', () => {
  const tasks = '    - debug: msg="{{ somewhere }}"\n';
  assert.deepEqual(report(playbook(`    - include_vars: "{{ ansible_os_family }}.yml"\n${tasks}`)), []);
  assert.deepEqual(
    report(
      playbook(`    - set_fact:\n        "{{ name_of_it }}": 1\n${tasks}`, {}, '  vars:\n    name_of_it: somewhere\n'),
    ),
    [],
  );
  assert.deepEqual(
    report(playbook(`    - include_tasks: "{{ which }}.yml"\n${tasks}`, {}, '  vars:\n    which: x\n')),
    [],
  );
  assert.deepEqual(report(playbook(tasks)), ['somewhere@4:error'], 'the same task alone is reported');
});
