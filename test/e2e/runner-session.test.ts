import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { quote } from '../../src/transport/quote.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { addressOf, HOSTS, onHost, resetHost } from '../helpers/lab.js';

// The persistent runner's session check (transport/driver.ts, "Stale sessions") on the transport itself:
// commands sent back to back to a runner whose session went out of date run once each, in order, on one
// new runner, whoever made the change (another runner's command, or something outside orch).
const host = HOSTS[0] as string;
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';
const root = { become: { user: 'root' } };
const fsx = { become: { user: 'fsx' } };
let ssh: SshTransport;

before(async () => {
  resetHost(host);
  const setup = onHost(host, 'useradd fsx && : > /tmp/fsx.log && chmod 666 /tmp/fsx.log');
  assert.equal(setup.code, 0, setup.stderr);
  ssh = await SshTransport.connect({
    name: host,
    address: addressOf(host),
    port: 22,
    user: 'deploy',
    privateKeyFiles: [`${LAB_DIR}/id_ed25519`],
    knownHostsFiles: [`${LAB_DIR}/known_hosts`],
    acceptNewHostKeys: false,
    connectTimeoutMs: 20_000,
  });
});

after(async () => {
  await ssh?.close();
  resetHost(host);
});

test('runner session: after a group change made outside orch, pipelined commands run once each, in order, on one new runner, in the new group', async () => {
  assert.equal((await ssh.exec('id -Gn', fsx)).stdout, 'fsx\n');
  assert.equal(onHost(host, 'usermod -aG adm fsx').code, 0);
  const execs = ssh.stats.execs;
  const rs = await Promise.all([1, 2, 3, 4, 5].map((n) => ssh.exec(`echo ${n} >> /tmp/fsx.log; id -Gn`, fsx)));
  assert.deepEqual(
    rs.map((r) => r.stdout),
    Array(5).fill('fsx adm\n'),
  );
  assert.equal(onHost(host, 'cat /tmp/fsx.log').stdout, '1\n2\n3\n4\n5\n', 'each ran once, in order');
  assert.equal(ssh.stats.execs - execs, 1, 'one new runner for all five');
  let runners = '';
  for (let i = 0; i < 20 && runners !== '1'; i++)
    runners = onHost(host, 'sleep 0.1; pgrep -c -u fsx perl').stdout.trim();
  assert.equal(runners, '1', 'the old runner ended');
});

test('runner session: a command that raises limits gets its answer, and the commands sent behind it run once each on a new runner with the new limit', async () => {
  assert.notEqual((await ssh.exec('ulimit -n', root)).stdout, '4343\n');
  const execs = ssh.stats.execs;
  const rs = await Promise.all([
    ssh.exec(
      "printf 'root soft nofile 4343\\nroot hard nofile 4343\\n' > /etc/security/limits.d/fsx.conf; echo w >> /tmp/fsx.log",
      root,
    ),
    ssh.exec('echo a >> /tmp/fsx.log; ulimit -n', root),
    ssh.exec('echo b >> /tmp/fsx.log; ulimit -n', root),
  ]);
  assert.deepEqual(
    rs.map((r) => [r.rc, r.stdout]),
    [
      [0, ''],
      [0, '4343\n'],
      [0, '4343\n'],
    ],
  );
  assert.equal(onHost(host, 'tail -n 3 /tmp/fsx.log').stdout, 'w\na\nb\n', 'each ran once, in order');
  assert.equal(ssh.stats.execs - execs, 1, 'one new runner');
  assert.equal((await ssh.exec('ulimit -n', root)).stdout, '4343\n');
  assert.equal(ssh.stats.execs - execs, 1, 'the new runner stays while nothing changes');
});

test('runner session: creating another user or group keeps the runners (their sessions are the same)', async () => {
  await ssh.exec('true', root);
  await ssh.exec('true', fsx);
  const execs = ssh.stats.execs;
  assert.equal((await ssh.exec('useradd fsz && groupadd fszg && usermod -aG fszg fsz', root)).rc, 0);
  assert.equal((await ssh.exec('id -Gn', fsx)).stdout, 'fsx adm\n');
  assert.equal((await ssh.exec('id -un', root)).stdout, 'root\n');
  assert.equal(ssh.stats.execs - execs, 0, 'no new runner');
  assert.equal((await ssh.exec('usermod -aG fszg fsx', root)).rc, 0);
  assert.equal((await ssh.exec('id -Gn', fsx)).stdout, 'fsx adm fszg\n', 'but fsx joining a group is its own change');
  assert.equal(ssh.stats.execs - execs, 1, 'one new runner, for fsx');
});

test('runner session: a limits file rewritten within the same second (same size, same inode) is still seen', async () => {
  // stat's times have whole seconds in the runner: a change within the second is caught by content.
  // The writes go through the login user's runner (sudo inside it), so both land within milliseconds.
  const write = (n: number) =>
    ssh.exec(
      `sudo -n sh -c ${quote(`rm -f /etc/security/limits.d/fsx.conf; printf 'root soft nofile ${n}\\nroot hard nofile ${n}\\n' > /etc/security/limits.d/fsy.conf; stat -c %Z.%i /etc/security/limits.d/fsy.conf`)}`,
    );
  for (let n = 4000; n < 4020; n += 2) {
    const first = await write(n);
    assert.equal(first.rc, 0, first.stderr);
    assert.equal((await ssh.exec('ulimit -n', root)).stdout, `${n}\n`, 'a new runner after the file changed');
    const second = await write(n + 1);
    assert.equal(
      (await ssh.exec('ulimit -n', root)).stdout,
      `${n + 1}\n`,
      `rewritten at ${second.stdout.trim()} after ${first.stdout.trim()}`,
    );
    if (first.stdout === second.stdout) return; // same ctime second and inode: only the content told them apart
  }
  assert.fail('the two writes never landed within one second');
});
