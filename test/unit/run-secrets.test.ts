import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunEvent } from '../../src/core/events.js';
import { Secrets } from '../../src/core/secrets.js';
import { runPlaybook } from '../../src/executor/run.js';
import type { RunOptions } from '../../src/executor/state.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { lineReporter } from '../../src/ui/lines.js';
import { ndjsonWriter, Redactor } from '../../src/ui/ndjson.js';
import { VaultError } from '../../src/vault/format.js';

// Issue 20, "no ambient globals": secrets and the vault password belong to one CLI invocation (one run, one load),
// never to the process. The runs here use `ansible_connection=local`: no lab needed.

const VAULT = join(import.meta.dirname, '..', 'fixtures', 'vault');
const VAULT_PASSWORD = readFileSync(join(VAULT, 'password.txt'), 'utf8').trim();
const ORCH = join(import.meta.dirname, '..', '..', 'bin', 'orch');

/** A directory with a local inventory whose group_vars/all.yml is the ansible-vault fixture (db_password...). */
function vaultedInventory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-secrets-inv-'));
  writeFileSync(join(dir, 'hosts'), 'localhost ansible_connection=local\n');
  mkdirSync(join(dir, 'group_vars'));
  copyFileSync(join(VAULT, 'secrets.yml'), join(dir, 'group_vars', 'all.yml'));
  return dir;
}

test('two Secrets registries share nothing: what one registers the other does not redact', () => {
  const a = new Secrets();
  const b = new Secrets();
  a.register('Only-In-Registry-A');
  a.setVaultPassword('vault-pw-of-a');
  assert.equal(a.redact('x Only-In-Registry-A vault-pw-of-a'), 'x ******** ********');
  assert.equal(b.redact('x Only-In-Registry-A vault-pw-of-a'), 'x Only-In-Registry-A vault-pw-of-a');
  assert.equal(b.known().size, 0);
  assert.equal(b.vaultPassword, undefined);
});

test('two inventory loads in one process: each uses its own vault password and registers into its own secrets', () => {
  const dir = vaultedInventory();
  const withPassword = new Secrets();
  withPassword.setVaultPassword(VAULT_PASSWORD);
  const inv = loadInventory(join(dir, 'hosts'), withPassword);
  assert.equal(inv.group('all').vars.db_password, 's3cr3t-from-ansible');
  assert.equal(withPassword.redact('db s3cr3t-from-ansible'), 'db ********');
  // a second load without a password (as another invocation would be) cannot read the vault file
  const without = new Secrets();
  assert.throws(
    () => loadInventory(join(dir, 'hosts'), without),
    (e: unknown) => e instanceof VaultError && /no vault password was given/.test(e.message),
  );
  assert.equal(without.redact('db s3cr3t-from-ansible'), 'db s3cr3t-from-ansible', 'learned nothing from the first');
  // nor with another password
  const wrong = new Secrets();
  wrong.setVaultPassword('not the password');
  assert.throws(() => loadInventory(join(dir, 'hosts'), wrong), VaultError);
});

test("a literal no_log value of a task is registered at load, in that load's secrets only", () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-secrets-pb-'));
  const file = join(dir, 'site.yml');
  writeFileSync(
    file,
    '- hosts: all\n  tasks:\n    - user:\n        name: bob\n        password: $6$load$LiteralNoLogHash\n',
  );
  const first = new Secrets();
  const second = new Secrets();
  loadPlaybook(file, { secrets: first });
  assert.equal(first.redact('p $6$load$LiteralNoLogHash'), 'p ********');
  assert.equal(second.redact('p $6$load$LiteralNoLogHash'), 'p $6$load$LiteralNoLogHash');
});

const OPTS: RunOptions = {
  check: false,
  diff: false,
  forks: 5,
  tags: [],
  skipTags: [],
  extraVars: {},
  verbose: 0,
  acceptNewHostKeys: false,
  connectTimeoutMs: 10_000,
};

/** One run of a local playbook as the CLI makes it: its own secrets, events redacted into NDJSON and lines. */
async function localRun(password: string, alsoPrint: string): Promise<{ secrets: Secrets; out: string; code: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'orch-secrets-run-'));
  writeFileSync(join(dir, 'hosts'), `localhost ansible_connection=local ansible_become_password=${password}\n`);
  writeFileSync(
    join(dir, 'site.yml'),
    `- hosts: localhost\n  gather_facts: no\n  tasks:\n    - debug:\n        msg: "pw {{ ansible_become_password }} other ${alsoPrint}"\n`,
  );
  const secrets = new Secrets();
  const redact = new Redactor(secrets);
  const out: string[] = [];
  const ndjson = ndjsonWriter((s) => out.push(s));
  const lines = lineReporter((s) => out.push(redact.text(s)));
  const code = await runPlaybook({
    command: 'run',
    inventoryPath: join(dir, 'hosts'),
    playbookPath: join(dir, 'site.yml'),
    opts: OPTS,
    emit: (e: RunEvent) => {
      const safe = redact.event(e);
      ndjson(safe);
      lines(safe);
    },
    secrets,
    stateDir: join(dir, '.orch'),
    stopping: {},
  });
  return { secrets, out: out.join(''), code };
}

test('two runs in one process: each redacts its own password, and neither knows the other one', async () => {
  const one = await localRun('Run-One-Secret-1111', 'Run-Two-Secret-2222');
  const two = await localRun('Run-Two-Secret-2222', 'Run-One-Secret-1111');
  assert.equal(one.code, 0, one.out);
  assert.equal(two.code, 0, two.out);
  assert.match(one.out, /pw \*{8} other Run-Two-Secret-2222/, 'run one hides its password, not run two’s');
  assert.match(two.out, /pw \*{8} other Run-One-Secret-1111/, 'run two hides its password, not run one’s');
  assert.ok(!one.out.includes('Run-One-Secret-1111'));
  assert.ok(!two.out.includes('Run-Two-Secret-2222'));
  assert.ok(!one.secrets.known().has('Run-Two-Secret-2222') && !two.secrets.known().has('Run-One-Secret-1111'));
});

test('orch run with a vault password: no output shows a vaulted value (NDJSON, lines, --log, run log, ERROR)', () => {
  const inv = vaultedInventory();
  writeFileSync(
    join(inv, 'site.yml'),
    '- hosts: localhost\n  gather_facts: no\n  tasks:\n    - debug:\n        msg: "db {{ db_password }}"\n' +
      '    - fail:\n        msg: "token {{ api_token }}"\n',
  );
  // an error whose message holds a vaulted value (an inline !vault play var): the CLI's ERROR line is redacted too
  const inline = readFileSync(join(VAULT, 'inline.yml'), 'utf8').replace(/^/gm, '    ');
  writeFileSync(
    join(inv, 'bad.yml'),
    `- hosts: localhost\n  gather_facts: no\n  serial: "{{ app_secret }}"\n  vars:\n${inline}\n  tasks: []\n`,
  );
  const texts: string[] = [];
  const run = (playbook: string, output: string) => {
    const cwd = mkdtempSync(join(tmpdir(), 'orch-secrets-cwd-'));
    const log = join(cwd, 'run.log');
    const args = ['run', join(inv, 'hosts'), join(inv, playbook), '-o', output, '--log', log];
    const r = spawnSync(ORCH, [...args, '--vault-password-file', join(VAULT, 'password.txt')], {
      cwd,
      encoding: 'utf8',
    });
    texts.push(r.stdout, r.stderr, readFileSync(log, 'utf8'));
    for (const f of readdirSync(join(cwd, '.orch', 'runs')))
      texts.push(readFileSync(join(cwd, '.orch', 'runs', f), 'utf8'));
    return r;
  };
  assert.equal(run('site.yml', 'json').status, 2);
  assert.equal(run('site.yml', 'lines').status, 2);
  const bad = run('bad.yml', 'lines');
  assert.equal(bad.status, 4);
  assert.match(bad.stderr, /ERROR: .*serial: '\*{8}' is not a number/);
  const all = texts.join('\n');
  assert.match(all, /db \*{8}/);
  assert.match(all, /token \*{8}/);
  for (const plain of ['s3cr3t-from-ansible', 'tok-99887766', 'inline-s3cret-value', VAULT_PASSWORD])
    assert.ok(!all.includes(plain), `${plain} appears in an output`);
});
