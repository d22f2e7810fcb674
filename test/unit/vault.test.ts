import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isVaulted, vaultDecrypt, vaultEncrypt } from '../../src/vault/format.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'vault');
const PASSWORD = 'correct horse battery staple';
const ORCH = join(import.meta.dirname, '..', '..', 'bin', 'orch');

test('vault: decrypts a file written by ansible-vault 2.14 (fixture made with the real tool)', () => {
  const text = readFileSync(join(FIX, 'secrets.yml'), 'utf8');
  assert.ok(isVaulted(text));
  assert.equal(
    vaultDecrypt(text, PASSWORD, 'secrets.yml'),
    'db_password: s3cr3t-from-ansible\napi_token: tok-99887766\n',
  );
});

test('vault: wrong password and damaged text are clear errors naming the file', () => {
  const text = readFileSync(join(FIX, 'secrets.yml'), 'utf8');
  assert.throws(
    () => vaultDecrypt(text, 'nope', 'group_vars/all/vault.yml'),
    /group_vars\/all\/vault.yml: wrong vault password/,
  );
  assert.throws(() => vaultDecrypt(text.replace(/\n6/, '\nzz'), PASSWORD, 'v.yml'), /v.yml: the vault text is damaged/);
  assert.throws(
    () => vaultDecrypt('$ANSIBLE_VAULT;9.9;AES256\n00', PASSWORD, 'v.yml'),
    /not an ansible-vault 1.1\/1.2/,
  );
});

test('vault: round trip (1.1 and 1.2 with a label), unicode and empty text; a fresh salt every time', () => {
  for (const plain of ['', 'x', 'a'.repeat(16), 'ünïcødé ✓\nline two\n']) {
    const v = vaultEncrypt(plain, PASSWORD);
    assert.match(v, /^\$ANSIBLE_VAULT;1\.1;AES256\n([0-9a-f]{1,80}\n)+$/);
    assert.equal(vaultDecrypt(v, PASSWORD, 'x'), plain);
  }
  const labelled = vaultEncrypt('s', PASSWORD, 'prod');
  assert.match(labelled, /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
  assert.equal(vaultDecrypt(labelled, PASSWORD, 'x'), 's');
  assert.notEqual(vaultEncrypt('same', PASSWORD), vaultEncrypt('same', PASSWORD));
});

test('vault: what orch encrypts, ansible-vault decrypts (when Debian’s ansible-core is installed)', (t) => {
  if (spawnSync('ansible-vault', ['--version']).status !== 0) return t.skip('ansible-vault not installed');
  const dir = mkdtempSync(join(tmpdir(), 'orch-vault-'));
  writeFileSync(join(dir, 'f.yml'), vaultEncrypt('from: orch\n', PASSWORD));
  const r = spawnSync(
    'ansible-vault',
    ['view', '--vault-password-file', join(FIX, 'password.txt'), join(dir, 'f.yml')],
    { encoding: 'utf8' },
  );
  assert.equal(r.stdout, 'from: orch\n', r.stderr);
});

test('orch vault encrypt / view / decrypt / encrypt_string, in place and atomically; bad password changes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-vault-'));
  const f = join(dir, 'vars.yml');
  writeFileSync(f, 'token: abc-123-secret\n', { mode: 0o640 });
  const pw = ['--vault-password-file', join(FIX, 'password.txt')];
  const run = (args: string[], input?: string) =>
    spawnSync(ORCH, ['vault', ...args, ...pw], { encoding: 'utf8', input });
  assert.equal(run(['encrypt', f]).status, 0);
  const enc = readFileSync(f, 'utf8');
  assert.ok(isVaulted(enc) && !enc.includes('abc-123'));
  assert.equal(run(['encrypt', f]).status, 4, 'encrypting twice is refused');
  assert.equal(run(['view', f]).stdout, 'token: abc-123-secret\n');
  writeFileSync(join(dir, 'wrong'), 'not it\n');
  const bad = spawnSync(ORCH, ['vault', 'decrypt', f, '--vault-password-file', join(dir, 'wrong')], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 4);
  assert.match(bad.stderr, /vars.yml: wrong vault password/);
  assert.equal(readFileSync(f, 'utf8'), enc, 'file untouched');
  assert.equal(run(['decrypt', f]).status, 0);
  assert.equal(readFileSync(f, 'utf8'), 'token: abc-123-secret\n');
  const s = run(['encrypt_string', '--name', 'api_key', 'k-777'], '');
  assert.match(s.stdout, /^api_key: !vault \|\n {10}\$ANSIBLE_VAULT;1\.1;AES256\n/);
  const editor = join(dir, 'editor.sh');
  writeFileSync(editor, '#!/bin/sh\necho "added: yes" >> "$1"\n', { mode: 0o755 });
  assert.equal(run(['encrypt', f]).status, 0);
  const e = spawnSync(ORCH, ['vault', 'edit', f, ...pw], { encoding: 'utf8', env: { ...process.env, EDITOR: editor } });
  assert.equal(e.status, 0, e.stderr);
  assert.equal(run(['view', f]).stdout, 'token: abc-123-secret\nadded: yes\n');
});
