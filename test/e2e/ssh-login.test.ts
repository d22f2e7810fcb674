import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import ssh2 from 'ssh2';
import { openClient, type SshTarget } from '../../src/transport/ssh-connect.js';
import { addressOf, HOSTS } from '../helpers/lab.js';

// What orch's SSH client does on the wire with a real OpenSSH server (transport/ssh-connect.ts): what it leaves
// out after the login, and that a command's packets do not wait on TCP's delayed acknowledgements.
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';
const host = HOSTS[0] as string;
const addr = addressOf(host);
const key = join(LAB_DIR, 'id_ed25519');
const target: SshTarget = {
  name: host,
  address: addr,
  port: 22,
  user: 'deploy',
  privateKeyFiles: [key],
  knownHostsFiles: [join(LAB_DIR, 'known_hosts')],
  acceptNewHostKeys: false,
  connectTimeoutMs: 20_000,
};

/** Runs `true` in a new channel and waits for it to close: the host-key list sshd sends after the login came before. */
const runTrue = (client: ssh2.Client) =>
  new Promise<void>((resolve, reject) =>
    client.exec('true', (err, ch) => (err ? reject(err) : ch.on('close', () => resolve()).resume())),
  );

test("after the login, sshd's list of its host keys (hostkeys-00) is not answered with a proof request: no key signed and verified again", async (t) => {
  // ssh2's protocol, whose method sends the proof request: counted for ssh2 as is, then for orch's client
  const protocol = createRequire(import.meta.url)('ssh2/lib/protocol/Protocol.js') as {
    prototype: { openssh_hostKeysProve: (...args: unknown[]) => unknown };
  };
  const prove = protocol.prototype.openssh_hostKeysProve;
  let proofs = 0;
  protocol.prototype.openssh_hostKeysProve = function (this: unknown, ...args: unknown[]) {
    proofs++;
    return prove.apply(this, args);
  };
  t.after(() => (protocol.prototype.openssh_hostKeysProve = prove));

  const plain = new ssh2.Client();
  await new Promise<void>((resolve, reject) =>
    plain
      .on('ready', resolve)
      .on('error', reject)
      .connect({ host: addr, username: 'deploy', privateKey: readFileSync(key), hostVerifier: () => true }),
  );
  await runTrue(plain);
  plain.end();
  assert.equal(proofs, 1, 'ssh2 as is asks the lab sshd to prove its keys');

  const { client, release } = await openClient(target);
  try {
    await runTrue(client);
    // the keepalive sent instead was answered and its callback taken off ssh2's queue of global-request
    // callbacks (one left there would take the answer to ssh2's next keepalive, which would then count as lost)
    const queue = (client as unknown as { _callbacks: unknown[] })._callbacks;
    assert.equal(queue.length, 0, 'callbacks left waiting for a global reply');
  } finally {
    release();
  }
  assert.equal(proofs, 1, "orch's client asked for a proof");
});

test('commands on one connection do not wait ~40 ms for a delayed TCP acknowledgement (TCP_NODELAY)', async () => {
  const { client, release } = await openClient(target);
  const times: number[] = [];
  try {
    for (let i = 0; i < 9; i++) {
      const start = performance.now();
      await runTrue(client);
      times.push(performance.now() - start);
    }
  } finally {
    release();
  }
  // without TCP_NODELAY each command's end (EOF, then close) waits for the host's delayed acknowledgement, 40 ms
  // at least on Linux; a command here takes a few ms. The second fastest, so that a loaded machine cannot fail it.
  const second = [...times].sort((a, b) => a - b)[1] as number;
  assert.ok(second < 30, `second fastest ${second.toFixed(1)} ms of ${times.map((x) => x.toFixed(1)).join(', ')}`);
});
