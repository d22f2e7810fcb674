// ssh-login.mjs HOST_ADDRESS [COUNT] [ORCH_DIR]: orch's SSH client (ORCH_DIR's built dist/, this checkout by
// default) against one lab host: COUNT times in a row a login, a command, a second command on the same
// connection; prints the controller's CPU per connection and the mean wall of each step. Lab files from
// ORCH_LAB_DIR (default /var/lib/orch-test-lab). Not part of npm test (README, Benchmark).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const [address, count = '50', dir = new URL('../..', import.meta.url).pathname] = process.argv.slice(2);
if (!address) throw new Error('usage: ssh-login.mjs HOST_ADDRESS [COUNT] [ORCH_DIR]');
const lab = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';
const { openClient } = await import(join(dir, 'dist/transport/ssh-connect.js'));
const target = {
  name: address,
  address,
  port: 22,
  user: 'deploy',
  privateKeyFiles: [join(lab, 'id_ed25519')],
  knownHostsFiles: [join(lab, 'known_hosts')],
  acceptNewHostKeys: false,
  connectTimeoutMs: 20_000,
};
const runTrue = (client) =>
  new Promise((resolve, reject) =>
    client.exec('true', (err, ch) => (err ? reject(err) : ch.on('close', resolve).resume())),
  );
const wall = { login: 0, first: 0, second: 0 };
async function once() {
  const t0 = performance.now();
  const { client, release } = await openClient(target);
  const t1 = performance.now();
  await runTrue(client);
  const t2 = performance.now();
  await runTrue(client);
  const t3 = performance.now();
  release();
  wall.login += t1 - t0;
  wall.first += t2 - t1;
  wall.second += t3 - t2;
}
for (let i = 0; i < 10; i++) await once(); // warm up: V8 compiles, sshd's caches
Object.keys(wall).forEach((k) => (wall[k] = 0));
const n = Number(count);
const cpu0 = process.cpuUsage();
for (let i = 0; i < n; i++) await once();
const cpu = process.cpuUsage(cpu0);
const ms = (x) => (x / n).toFixed(1);
console.log(
  `${dir}: CPU ${((cpu.user + cpu.system) / n / 1000).toFixed(2)} ms a connection; wall: login ${ms(wall.login)} ms, ` +
    `first command ${ms(wall.first)} ms, second ${ms(wall.second)} ms`,
);
