import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError } from '../../src/core/errors.js';
import { Secrets } from '../../src/core/secrets.js';
import { holderState } from '../../src/executor/lock.js';
import { renderParams } from '../../src/executor/task-settings.js';
import { user } from '../../src/modules/user.js';
import { renderString, renderValue } from '../../src/template/env.js';
import { VarScope } from '../../src/template/scope.js';
import { parseYaml } from '../../src/yaml/load.js';
import { hostname } from 'node:os';

// Issue 16, cases 7 and 9: the parts that need no lab.

const scope = (vars: Record<string, unknown>, secrets = new Secrets()) =>
  new VarScope([{ name: 'vars', vars, templated: true }], (v, s) => renderValue(v, s), { lookupPaths: [], secrets });

test('a YAML alias bomb (billion laughs) is refused quickly with the file and line, not expanded', () => {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 7; i++)
    levels.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  const started = Date.now();
  assert.throws(
    () => parseYaml(`${levels.join('\n')}\n`, 'group_vars/all.yml', new Secrets()),
    (e: unknown) =>
      e instanceof ParseError &&
      /aliases expand to over \d+ values/.test(e.message) &&
      e.pos?.file === 'group_vars/all.yml' &&
      (e.pos?.line ?? 0) > 1,
  );
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
});

test('ordinary anchors and merges still load (a default merged into many hosts)', () => {
  const hosts = Array.from({ length: 300 }, (_, i) => `h${i}: {<<: *d, n: ${i}}`).join('\n  ');
  const v = parseYaml(
    `defaults: &d {user: deploy, port: 22, a: 1, b: 2, c: 3}\nhosts:\n  ${hosts}\n`,
    'inv.yml',
    new Secrets(),
  ) as {
    hosts: Record<string, { user: string; n: number }>;
  };
  assert.equal(v.hosts.h299?.user, 'deploy');
  assert.equal(v.hosts.h299?.n, 299);
});

test('copy content "{{ v }}\\n" keeps its trailing newline (as ansible-playbook 2.14 writes it)', () => {
  const s = scope({ v: 'hello', n: 5, list: ['a'] });
  assert.equal(renderString('{{ v }}\n', s), 'hello\n');
  assert.equal(renderString('{{ v }}\n\n', s), 'hello\n\n');
  assert.equal(renderString('{% if true %}{{ v }}{% endif %}\n', s), 'hello\n');
  assert.equal(renderString('  {{ v }}', s), '  hello');
  // a lone expression keeps its native type
  assert.equal(renderString('{{ n }}', s), 5);
  assert.equal(renderString(' {{ list }} ', s), " ['a'] ", 'spaces around: a string, as Ansible 2.14 renders it');
});

test('password variables are registered as secrets from any vars mapping; templated ones when read', () => {
  const secrets = new Secrets();
  secrets.registerPasswordVars({
    ansible_become_password: 'Unit-Become-Pw-1',
    ansible_ssh_pass: 'Unit-Ssh-Pass-2',
    other: 'Unit-Not-Secret-3',
    ansible_password: '{{ vault_pw }}',
  });
  assert.equal(
    secrets.redact('Unit-Become-Pw-1 Unit-Ssh-Pass-2 Unit-Not-Secret-3'),
    '******** ******** Unit-Not-Secret-3',
  );
  const s = scope({ vault_pw: 'Unit-From-Template-4', ansible_password: '{{ vault_pw }}' }, secrets);
  assert.equal(s.get('ansible_password'), 'Unit-From-Template-4');
  assert.equal(secrets.redact('x Unit-From-Template-4'), 'x ********');
});

test("a noLog parameter value (user password) is registered in the run's secrets when the task's parameters are rendered", () => {
  const secrets = new Secrets();
  renderParams(user, { name: 'bob', password: '{{ hash }}' }, scope({ hash: '$6$unit$NoLogParamHash' }, secrets));
  assert.equal(secrets.redact('usermod -p $6$unit$NoLogParamHash bob'), 'usermod -p ******** bob');
});

test('lock holder state: this process is running; a dead pid is gone; a pid reused after the lock was taken is gone; another machine cannot be told', () => {
  const now = new Date().toISOString();
  assert.equal(holderState({ host: hostname(), pid: process.pid, since: now }), 'running');
  assert.equal(holderState({ host: hostname(), pid: 999_999, since: now }), 'gone');
  assert.equal(holderState({ host: hostname(), pid: process.pid, since: '2001-01-01T00:00:00Z' }), 'gone');
  assert.equal(holderState({ host: 'another-machine.example', pid: process.pid, since: now }), 'elsewhere');
});

test('a password variable in any YAML file (play vars, role defaults) is a secret as soon as it is read', () => {
  const secrets = new Secrets();
  parseYaml(
    '- hosts: all\n  vars:\n    ansible_become_password: Yaml-Play-Vars-Pw-5\n  tasks: []\n',
    'site.yml',
    secrets,
  );
  assert.equal(secrets.redact('pw Yaml-Play-Vars-Pw-5'), 'pw ********');
});

test('redacting an event keeps it whole: a secret equal to a field name or to a number in the event', async () => {
  const { Redactor } = await import('../../src/ui/ndjson.js');
  const secrets = new Secrets();
  secrets.register('host');
  secrets.register('1234');
  const e = {
    type: 'host_result',
    host: 'web1',
    taskId: 1,
    task: 'pw host 1234',
    module: 'debug',
    status: 'ok',
    durationMs: 1234,
    msg: 'x1234y',
  } as const;
  const r = new Redactor(secrets).event(e) as unknown as Record<string, unknown>;
  assert.equal(r.type, 'host_result');
  assert.equal(r.host, 'web1');
  assert.equal(r.durationMs, 1234);
  assert.equal(r.task, 'pw ******** ********');
  assert.equal(r.msg, 'x********y');
});
