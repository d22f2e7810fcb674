import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ssh2 from 'ssh2';
import type { ConnectError } from '../../src/core/errors.js';
import { DriverSession } from '../../src/transport/driver.js';
import { openClient, type SshTarget } from '../../src/transport/ssh-connect.js';
import { loopbackServer } from '../helpers/ssh2-server.js';

// orch's SSH client code against ssh2's own server on loopback (test/helpers/ssh2-server.ts): no lab.

const target = (port: number, over: Partial<SshTarget> = {}): SshTarget => ({
  name: 'loop',
  address: '127.0.0.1',
  port,
  user: 'u',
  privateKeyFiles: [],
  knownHostsFiles: [join(mkdtempSync(join(tmpdir(), 'orch-loop-kh-')), 'known_hosts')],
  acceptNewHostKeys: true,
  connectTimeoutMs: 10_000,
  ...over,
});

test('runner over SSH: a runner killed by a signal says "killed by SIGKILL" (ssh2 already names it SIGKILL)', async () => {
  const port = await loopbackServer({
    login: () => true,
    exec: (channel) => {
      channel.write('ORCH-DRIVER-READY\n');
      channel.once('data', () => {
        channel.exit('KILL');
        channel.end();
      });
    },
  });
  const { client, release } = await openClient(target(port));
  try {
    const session = await new Promise<DriverSession>((resolve, reject) =>
      client.exec('runner', (err, ch) => (err ? reject(err) : resolve(new DriverSession(ch, 'loop', undefined)))),
    );
    await session.started();
    await assert.rejects(session.run('true', Buffer.alloc(0)), {
      message: 'command runner on the host stopped (killed by SIGKILL)',
    });
  } finally {
    release();
  }
});

test('login: an SSH_AUTH_SOCK with no agent behind it does not stop the password login (OpenSSH goes on too)', async (t) => {
  const port = await loopbackServer({ login: (ctx) => ctx.method === 'password' && ctx.password === 'p:w "x$' });
  const saved = process.env.SSH_AUTH_SOCK;
  t.after(() => (saved === undefined ? delete process.env.SSH_AUTH_SOCK : (process.env.SSH_AUTH_SOCK = saved)));
  process.env.SSH_AUTH_SOCK = join(mkdtempSync(join(tmpdir(), 'orch-loop-agent-')), 'gone.sock');
  const { release } = await openClient(target(port, { password: 'p:w "x$' }));
  release();
  await assert.rejects(openClient(target(port, { password: 'wrong' })), /authentication failed/);
});

test('login: a key file with a passphrase (orch cannot use it) fails the login with a hint that says so', async () => {
  const port = await loopbackServer({ login: (ctx) => ctx.method === 'publickey' });
  const key = join(mkdtempSync(join(tmpdir(), 'orch-loop-key-')), 'id_ed25519');
  writeFileSync(
    key,
    ssh2.utils.generateKeyPairSync('ed25519', { passphrase: 'pp', cipher: 'aes256-ctr', rounds: 4 }).private,
  );
  await assert.rejects(openClient(target(port, { privateKeyFiles: [key] })), (err: ConnectError) => {
    assert.match(err.message, /authentication failed/);
    assert.match(err.hint ?? '', /That key could not be used: .*no passphrase given/);
    return true;
  });
});
