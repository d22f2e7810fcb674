import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
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
