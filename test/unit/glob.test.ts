import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { globMatch } from '../../src/core/glob.js';
import { expandLoop } from '../../src/executor/loop.js';
import { loadInventory } from '../../src/inventory/load.js';
import { selectHosts } from '../../src/inventory/pattern.js';
import { renderValue } from '../../src/template/env.js';
import { VarScope } from '../../src/template/scope.js';
import { lookupKnownKeys, recordHostKey, verifyHostKey } from '../../src/transport/known-hosts.js';
import { parseSshConfig, readUserSshConfig } from '../../src/transport/ssh-config.js';
import { Secrets } from '../../src/core/secrets.js';

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
  writeFileSync(
    kh,
    `[10.0.0.5]:2222 ssh-ed25519 ${key}\n[10.1.*]:2200,!*.bad ssh-ed25519 ${key}\n${hashed} ssh-ed25519 ${key}\n`,
  );
  assert.equal(lookupKnownKeys([kh], '[10.0.0.5]:2222').keys.length, 1);
  assert.equal(lookupKnownKeys([kh], '10.0.0.5').keys.length, 0, 'port 22 is another entry');
  assert.equal(lookupKnownKeys([kh], '1:2222').keys.length, 0, 'brackets are not a character class');
  assert.equal(lookupKnownKeys([kh], '[10.1.2.3]:2200').keys.length, 1);
  writeFileSync(join(dir, 'names'), `Web1.Example.COM ssh-ed25519 ${key}\n`);
  assert.equal(lookupKnownKeys([join(dir, 'names')], 'web1.example.com').keys.length, 1, 'names in any case');
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
  assert.equal(
    parseSshConfig('Host Web1\n  User x\n', 'web1').user,
    'x',
    'host names match in any case, as in OpenSSH',
  );
});

test('inventory patterns as ansible-playbook 2.14: character classes, index and range subscripts', () => {
  const inv = loadInventory(join(import.meta.dirname, '..', 'fixtures', 'inv-dir'), new Secrets());
  // each expectation is what `ansible -i test/fixtures/inv-dir PATTERN --list-hosts` prints
  assert.deepEqual(selectHosts(inv, 'web0[!2]'), ['web01', 'web03']);
  assert.deepEqual(selectHosts(inv, 'web0[1]*'), ['web01']);
  assert.deepEqual(selectHosts(inv, 'web[0]'), ['web01'], 'a subscript picks by position, not a class');
  assert.deepEqual(selectHosts(inv, 'web[-1]'), ['web03']);
  assert.deepEqual(selectHosts(inv, 'web[0:1]'), ['web01', 'web02'], 'a range includes its end');
  assert.deepEqual(selectHosts(inv, 'web[1:]'), ['web02', 'web03']);
  assert.deepEqual(selectHosts(inv, 'web[1-2]'), ['web02', 'web03'], 'the old x-y range');
  assert.deepEqual(selectHosts(inv, 'db[0-9]'), ['db1', 'db2'], 'a range of group db, not a class');
  assert.throws(
    () => selectHosts(inv, 'web0[1-2]'),
    /'web0\[1-2\]' matches no host/,
    'a range of `web0`, which is nothing',
  );
  assert.deepEqual(selectHosts(inv, '~db[12]'), ['db1', 'db2'], 'a regex is not a subscript');
});

test('with_fileglob (Python glob): character classes in the file name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-fileglob-'));
  for (const f of ['a1.conf', 'a2.conf', 'a3.conf', '[x].conf']) writeFileSync(join(dir, f), '');
  const scope = new VarScope([], (v, s) => renderValue(v, s), { lookupPaths: [], secrets: new Secrets() });
  assert.deepEqual(expandLoop({ kind: 'fileglob', value: [`${dir}/a[12].conf`] }, scope), [
    join(dir, 'a1.conf'),
    join(dir, 'a2.conf'),
  ]);
  assert.deepEqual(expandLoop({ kind: 'fileglob', value: [`${dir}/a[!12].conf`] }, scope), [join(dir, 'a3.conf')]);
  assert.deepEqual(expandLoop({ kind: 'fileglob', value: [`${dir}/a?.conf`] }, scope).length, 3);
});

test('known_hosts: an @revoked key is refused even where another line has it; @cert-authority lines do not count as keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-kh-unit-'));
  const kh = join(dir, 'known_hosts');
  const key = randomBytes(32).toString('base64');
  writeFileSync(
    kh,
    `10.0.0.7 ssh-ed25519 ${key}\n@revoked * ssh-ed25519 ${key}\n@cert-authority *.example ssh-ed25519 ${randomBytes(32).toString('base64')}\n`,
  );
  assert.equal(verifyHostKey([kh], '10.0.0.7', Buffer.from(key, 'base64')).kind, 'revoked');
  assert.equal(verifyHostKey([kh], '[10.0.0.8]:2222', Buffer.from(key, 'base64')).kind, 'revoked');
  assert.equal(verifyHostKey([kh], 'a.example', randomBytes(32)).kind, 'unknown');
});

test('ssh_config: UserKnownHostsFile / GlobalKnownHostsFile are read (first value wins; none; ~ and %h)', () => {
  const cfg =
    'Host web*\n  UserKnownHostsFile ~/.ssh/kh_work /etc/kh_%h\n  GlobalKnownHostsFile none\nHost *\n  UserKnownHostsFile ~/.ssh/other\n';
  const c = parseSshConfig(cfg, 'web1');
  assert.equal(c.userKnownHostsFiles?.length, 2);
  assert.match(c.userKnownHostsFiles?.[0] ?? '', /\/\.ssh\/kh_work$/);
  assert.equal(c.userKnownHostsFiles?.[1], '/etc/kh_web1');
  assert.deepEqual(c.globalKnownHostsFiles, []);
  assert.match(parseSshConfig(cfg, 'db1').userKnownHostsFiles?.[0] ?? '', /\/\.ssh\/other$/);
});

test('ssh_config: HostKeyAlias is read', () => {
  assert.equal(parseSshConfig('Host web1\n  HostKeyAlias web-alias\n', 'web1').hostKeyAlias, 'web-alias');
});

test('ssh_config: Include (relative to the config directory, wildcards, in name order, inside a Host block)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-sshcfg-'));
  mkdirSync(join(dir, 'config.d'));
  writeFileSync(
    join(dir, 'config'),
    'Host other\n  Include never.conf\nHost *\n  Include config.d/*.conf\n  User fallback\n',
  );
  writeFileSync(join(dir, 'config.d', '20-b.conf'), 'Host web1\n  User second\n  Port 2200\n');
  writeFileSync(join(dir, 'config.d', '10-a.conf'), 'Host web1\n  UserKnownHostsFile /etc/kh_work\n  User first\n');
  writeFileSync(join(dir, 'config.d', 'skip.txt'), 'Host web1\n  User wrong\n');
  writeFileSync(join(dir, 'never.conf'), 'User never\n');
  const c = readUserSshConfig('web1', join(dir, 'config'));
  assert.equal(c.user, 'first', 'files in name order, first value wins');
  assert.equal(c.port, 2200);
  assert.deepEqual(c.userKnownHostsFiles, ['/etc/kh_work']);
  assert.equal(
    readUserSshConfig('db1', join(dir, 'config')).user,
    'fallback',
    'an inactive Host block includes nothing',
  );
});

test('ssh_config: Match host / originalhost / all / negation; undecidable criteria skip the block', () => {
  const cfg =
    'Host w1\n  HostName web1.example.com\nMatch host *.example.com\n  User ex\nMatch originalhost w1 !host db*\n  Port 2201\nMatch exec "true"\n  IdentityFile /never\nMatch all\n  User last\n';
  const c = parseSshConfig(cfg, 'w1');
  assert.equal(c.hostName, 'web1.example.com');
  assert.equal(c.user, 'ex', 'host is the name after HostName');
  assert.equal(c.port, 2201);
  assert.deepEqual(c.identityFiles, []);
  assert.equal(parseSshConfig(cfg, 'db1').user, 'last');
});

test('known_hosts: a file parsed once answers again only while unchanged (a key recorded or edited is seen at once)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-kh-memo-'));
  const kh = join(dir, 'known_hosts');
  // SSH key blobs: string "ssh-ed25519", then 32 bytes of key
  const blob = () => {
    const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    return Buffer.concat([field(Buffer.from('ssh-ed25519')), field(randomBytes(32))]);
  };
  const [k1, k2] = [blob(), blob()];
  const line = (n: number, k: Buffer) => `10.0.0.${n} ssh-ed25519 ${k.toString('base64')}\n`;
  writeFileSync(kh, Array.from({ length: 500 }, (_, i) => line(i, k1)).join(''));
  assert.equal(verifyHostKey([kh], '10.0.0.7', k1).kind, 'match');
  assert.equal(verifyHostKey([kh], 'new.example', k1).kind, 'unknown');
  recordHostKey(kh, 'new.example', k1);
  assert.equal(verifyHostKey([kh], 'new.example', k1).kind, 'match', 'appended line seen');
  writeFileSync(kh, readFileSync(kh, 'utf8').replace(line(7, k1), line(7, k2)));
  assert.equal(verifyHostKey([kh], '10.0.0.7', k1).kind, 'changed', 'same size, rewritten: the new key counts');
  assert.equal(verifyHostKey([kh], '10.0.0.7', k2).kind, 'match');
  writeFileSync(kh, `${line(7, k1)}10.0.0.7,* ssh-ed25519 ${k2.toString('base64')}\n`);
  assert.deepEqual(
    lookupKnownKeys([kh], '10.0.0.7').keys.map((k) => k.key),
    [k1, k2].map((k) => k.toString('base64')),
    'plain and pattern lines, in file order',
  );
});

test('known_hosts: a plain name matches in any case and once per line, as OpenSSH (and as before the memo)', () => {
  const kh = join(mkdtempSync(join(tmpdir(), 'orch-kh-case-')), 'known_hosts');
  writeFileSync(
    kh,
    'web1.example.com,WEB1.example.com,web1.example.com ssh-ed25519 AAAA1\n[Db1]:2222 ssh-ed25519 AAAA2\n',
  );
  assert.deepEqual(lookupKnownKeys([kh], 'web1.example.com').keys, [{ type: 'ssh-ed25519', key: 'AAAA1' }]);
  assert.deepEqual(lookupKnownKeys([kh], 'Web1.Example.COM').keys, [{ type: 'ssh-ed25519', key: 'AAAA1' }]);
  assert.deepEqual(lookupKnownKeys([kh], '[DB1]:2222').keys, [{ type: 'ssh-ed25519', key: 'AAAA2' }]);
});

test('ssh_config: read for every task, parsed once per text: a changed file is parsed again, one with Include always', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-sshcfg-'));
  const file = join(dir, 'config');
  writeFileSync(file, 'Host web1\n  User one\n');
  const first = readUserSshConfig('web1', file);
  assert.equal(readUserSshConfig('web1', file), first, 'the same text: the entry parsed before');
  writeFileSync(file, 'Host web1\n  User two\n');
  assert.equal(readUserSshConfig('web1', file).user, 'two', 'a changed file (same size) is read again');
  writeFileSync(file, 'Host web1\n  Include inc.conf\n');
  writeFileSync(join(dir, 'inc.conf'), 'User three\n');
  assert.equal(readUserSshConfig('web1', file).user, 'three');
  writeFileSync(join(dir, 'inc.conf'), 'User four\n');
  assert.equal(readUserSshConfig('web1', file).user, 'four', 'an included file changed alone');
});
