import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ssh2, { type ParsedKey } from 'ssh2';
import { signingOnce } from '../../src/transport/ssh-connect.js';

/** A fresh key of this type (ssh-keygen), as ssh2 parses it. */
function keyOf(type: string, bits?: number): ParsedKey {
  const file = join(mkdtempSync(join(tmpdir(), 'orch-key-')), 'id');
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-f', file]);
  const key = ssh2.utils.parseKey(readFileSync(file));
  assert.ok(!(key instanceof Error));
  return key;
}

const DATA = Buffer.from('session id and userauth request');

for (const [type, bits, algos] of [
  ['ed25519', undefined, [undefined]],
  ['ecdsa', 256, [undefined]],
  ['ecdsa', 521, [undefined]],
  ['rsa', 2048, [undefined, 'sha256', 'sha512']],
] as const) {
  test(`ssh login key (${type}${bits ? ` ${bits}` : ''}): signed with the key parsed once, a signature ssh2 accepts`, () => {
    const key = keyOf(type, bits);
    const once = signingOnce(key);
    assert.ok(!(once instanceof Error));
    assert.notEqual(once.sign, key.sign, 'its own signing');
    assert.equal(once.type, key.type);
    assert.equal(ssh2.utils.parseKey(once as unknown as Buffer), once, 'still a key ssh2 takes as parsed');
    for (const algo of algos) {
      const signature = once.sign(DATA, algo);
      assert.ok(Buffer.isBuffer(signature));
      assert.equal(key.verify(DATA, signature, algo), true, `verifies (${algo ?? 'default digest'})`);
      // ed25519 and RSA signatures are deterministic: the very bytes ssh2 makes
      if (type !== 'ecdsa') assert.deepEqual(signature, key.sign(DATA, algo));
    }
  });
}

test('ssh login key: a public key alone stays as ssh2 parsed it', () => {
  const key = keyOf('ed25519');
  const pub = ssh2.utils.parseKey(key.getPublicSSH());
  assert.ok(!(pub instanceof Error));
  assert.equal(signingOnce(pub), pub);
});
