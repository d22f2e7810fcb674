import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { globMatch } from '../../src/core/glob.js';
import { expandLoop } from '../../src/executor/loop.js';
import { loadInventory } from '../../src/inventory/load.js';
import { selectHosts } from '../../src/inventory/pattern.js';
import { renderValue } from '../../src/template/env.js';
import { VarScope } from '../../src/template/scope.js';
import { lookupKnownKeys, verifyHostKey } from '../../src/transport/known-hosts.js';
import { parseSshConfig } from '../../src/transport/ssh-config.js';

const FNMATCH = { classes: true };
const OPENSSH = { classes: false };

test('glob: * and ? in both semantics; regex characters are literal', () => {
  for (const opts of [FNMATCH, OPENSSH]) {
    assert.ok(globMatch('web*', 'web01', opts));
    assert.ok(globMatch('web?1', 'web01', opts));
    assert.ok(!globMatch('web?1', 'web001', opts));
    assert.ok(globMatch('a.b+c(d)|e$^{1}', 'a.b+c(d)|e$^{1}', opts));
    assert.ok(!globMatch('a.b', 'axb', opts));
    assert.ok(globMatch('*', '', opts));
  }
});

test('glob with classes (fnmatch): [abc], ranges, [!x], a leading ], an unclosed [ is literal', () => {
  assert.ok(globMatch('web0[12]', 'web01', FNMATCH));
  assert.ok(!globMatch('web0[12]', 'web03', FNMATCH));
  assert.ok(globMatch('db[0-9]', 'db7', FNMATCH));
  assert.ok(globMatch('db[!0-9]', 'dbx', FNMATCH));
  assert.ok(!globMatch('db[!0-9]', 'db1', FNMATCH));
  assert.ok(globMatch('x[]]y', 'x]y', FNMATCH));
  assert.ok(globMatch('x[\\^]y', 'x^y', FNMATCH));
  assert.ok(globMatch('x[\\^]y', 'x\\y', FNMATCH));
  assert.ok(globMatch('web[1', 'web[1', FNMATCH));
  assert.ok(!globMatch('[z-a]', 'm', FNMATCH), 'a reversed range matches nothing, no exception');
});

test('glob without classes (OpenSSH): brackets are literal characters', () => {
  assert.ok(globMatch('[10.0.0.5]:2222', '[10.0.0.5]:2222', OPENSSH));
  assert.ok(!globMatch('[10.0.0.5]:2222', '1:2222', OPENSSH), 'not a character class');
  assert.ok(globMatch('[10.0.0.*]:2222', '[10.0.0.77]:2222', OPENSSH));
  assert.ok(!globMatch('[10.0.0.5]:2222', '[10.0.0.5]:22', OPENSSH));
});

test('known_hosts: [addr]:port entries match that port only, plain, wildcard and hashed; a changed key is "changed"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-kh-unit-'));
  const kh = join(dir, 'known_hosts');
  const key = randomBytes(32).toString('base64');
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[10.9.9.9]:2222').digest('base64')}`;
  writeFileSync(kh, `[10.0.0.5]:2222 ssh-ed25519 ${key}\n[10.1.*]:2200,!*.bad ssh-ed25519 ${key}\n${hashed} ssh-ed25519 ${key}\n`);
  assert.equal(lookupKnownKeys([kh], '[10.0.0.5]:2222').keys.length, 1);
  assert.equal(lookupKnownKeys([kh], '10.0.0.5').keys.length, 0, 'port 22 is another entry');
  assert.equal(lookupKnownKeys([kh], '1:2222').keys.length, 0, 'brackets are not a character class');
  assert.equal(lookupKnownKeys([kh], '[10.1.2.3]:2200').keys.length, 1);
  assert.equal(lookupKnownKeys([kh], '[10.9.9.9]:2222').keys.length, 1, 'hashed entry');
  assert.equal(lookupKnownKeys([kh], '10.9.9.9').keys.length, 0);
  assert.deepEqual(verifyHostKey([kh], '[10.0.0.5]:2222', Buffer.from(key, 'base64')), { kind: 'match' });
  assert.equal(verifyHostKey([kh], '[10.0.0.5]:2222', randomBytes(32)).kind, 'changed');
  assert.equal(verifyHostKey([kh], '[10.9.9.9]:2222', randomBytes(32)).kind, 'changed');
  assert.equal(verifyHostKey([kh], '[10.0.0.6]:2222', randomBytes(32)).kind, 'unknown');
});

test('ssh_config Host patterns: * and ?, negation, brackets literal', () => {
  const cfg = 'Host web? !web9\n  User deploy\nHost [fe80::1]\n  Port 2200\nHost db[12]\n  Port 5\n';
  assert.equal(parseSshConfig(cfg, 'web1').user, 'deploy');
  assert.equal(parseSshConfig(cfg, 'web9').user, undefined);
  assert.equal(parseSshConfig(cfg, '[fe80::1]').port, 2200);
  assert.equal(parseSshConfig(cfg, 'db1').port, undefined, 'no character class in ssh_config');
});

test('inventory patterns (fnmatch): character classes and subscripts', () => {
  const inv = loadInventory(join(import.meta.dirname, '..', 'fixtures', 'inv-dir'));
  assert.deepEqual(selectHosts(inv, 'web0[1-2]'), ['web01', 'web02']);
  assert.deepEqual(selectHosts(inv, 'web0[!2]'), ['web01', 'web03']);
  assert.deepEqual(selectHosts(inv, 'db[0-9]'), ['db1', 'db2']);
  assert.deepEqual(selectHosts(inv, 'web[0]'), ['web01'], 'a subscript picks by position, not a class');
  assert.deepEqual(selectHosts(inv, 'web[-1]'), ['web03']);
  assert.deepEqual(selectHosts(inv, '~db[12]'), ['db1', 'db2'], 'a regex is not a subscript');
});

test('with_fileglob (Python glob): character classes in the file name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-fileglob-'));
  for (const f of ['a1.conf', 'a2.conf', 'a3.conf', '[x].conf']) writeFileSync(join(dir, f), '');
  const scope = new VarScope([], (v, s) => renderValue(v, s));
  assert.deepEqual(expandLoop({ kind: 'fileglob', value: [`${dir}/a[12].conf`] }, scope), [join(dir, 'a1.conf'), join(dir, 'a2.conf')]);
  assert.deepEqual(expandLoop({ kind: 'fileglob', value: [`${dir}/a[!12].conf`] }, scope), [join(dir, 'a3.conf')]);
  assert.deepEqual(expandLoop({ kind: 'fileglob', value: [`${dir}/a?.conf`] }, scope).length, 3);
});
