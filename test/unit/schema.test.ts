import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { playbookSchema } from '../../src/playbook/schema.js';
import { parseYaml } from '../../src/yaml/load.js';
import { Secrets } from '../../src/core/secrets.js';

// `orch schema`: the generated JSON Schema accepts every playbook, task and handler file of this repository and
// of the public roles in the corpus, and flags what a load would refuse (typos in modules, parameters, keywords).
const ROOT = join(import.meta.dirname, '..', '..');
const CORPUS = process.env.ORCH_CORPUS_DIR ?? join(ROOT, '..', 'shared', 'corpus', 'roles');
const validate = new Ajv({ strict: false, allErrors: false }).compile(playbookSchema());

function yamlFiles(dir: string, keep: (path: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path, keep);
    return /\.ya?ml$/.test(name) && keep(path) ? [path] : [];
  });
}

// a role with its own Python modules (library/: timesync) uses names no schema can know
const taskFile = (p: string): boolean =>
  /\/(tasks|handlers)\//.test(p) && !existsSync(join(p.split(/\/(tasks|handlers)\//)[0] as string, 'library'));
const errorsOf = (text: string): string =>
  validate(parseYaml(text, 'test.yml', new Secrets())) ? '' : JSON.stringify(validate.errors?.slice(0, 3));

test('schema: accepts the shipped playbooks, role task/handler files, compat playbooks and every corpus role task file', () => {
  const files = [
    ...yamlFiles(join(ROOT, 'playbooks'), () => true),
    ...yamlFiles(join(ROOT, 'roles'), taskFile),
    ...yamlFiles(join(ROOT, 'test', 'compat'), () => true),
    ...yamlFiles(CORPUS, taskFile),
  ];
  assert.ok(files.length > (existsSync(CORPUS) ? 100 : 30), `found ${files.length} files`);
  const refused = files.flatMap((f) => {
    const data = parseYaml(readText(f), f, new Secrets());
    if (!Array.isArray(data)) return []; // vars files
    if (validate(data)) return [];
    const unknown = [
      ...new Set((validate.errors ?? []).flatMap((e) => (e.params.additionalProperty as string | undefined) ?? [])),
    ];
    return [`${f.slice(f.indexOf('/roles/') + 1)}: ${unknown.join(' ')}`];
  });
  // newer than Ansible 2.14, behind a condition (Ansible 2.14 fails it only when reached): flagged in an editor
  assert.deepEqual(
    refused,
    existsSync(CORPUS) ? ['roles/os_hardening/tasks/user_accounts.yml: password_expire_warn'] : [],
  );
});

test('schema: flags a misspelt module, an unknown parameter, a wrong choice, a misspelt task and play keyword', () => {
  assert.notEqual(errorsOf('- copyy: {src: a, dest: b}'), '');
  assert.notEqual(errorsOf('- copy: {src: a, dset: b}'), '');
  assert.notEqual(errorsOf('- file: {path: /a, state: directoryy}'), '');
  assert.notEqual(errorsOf('- copy: {src: a, dest: b}\n  whenn: x'), '');
  assert.notEqual(errorsOf('- hosts: all\n  taskss: []'), '');
  assert.notEqual(errorsOf('- hosts: all\n  tasks:\n    - block:\n        - servic: {name: x}'), '');
});

test('schema: accepts templates for typed values, k=v strings, FQCNs, modules orch lacks, with_* loops', () => {
  assert.equal(errorsOf('- file: {path: /a, state: "{{ s }}", recurse: "{{ r }}"}'), '');
  assert.equal(errorsOf('- ansible.builtin.copy: src=a dest=b'), '');
  assert.equal(errorsOf('- community.general.ufw: {rule: allow, port: "22"}'), '');
  assert.equal(errorsOf('- debug: msg={{ item }}\n  with_items: [1, 2]'), '');
  assert.equal(errorsOf('- hosts: all\n  roles: [a, {role: b, vars: {x: 1}}]\n  tasks: [{ping: }]'), '');
  assert.equal(errorsOf('- import_playbook: other.yml'), '');
});

function readText(f: string): string {
  return readFileSync(f, 'utf8');
}
