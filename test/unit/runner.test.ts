import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { DriverSession, requestFrame, runnerSource, StaleSession } from '../../src/transport/driver.js';
import { perlProbe } from '../../src/transport/probe-command.js';

// The runner (src/transport/runner.pl) and its controller end (DriverSession) speaking the protocol over a
// local perl process's pipes instead of an SSH channel: no lab needed.

const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

function localRunner(home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'))): { session: DriverSession; pid: number } {
  const child = spawn('perl', ['-e', runnerSource()], { env: { ...process.env, HOME: home }, stdio: 'pipe' });
  children.push(child);
  const channel = Object.assign(new EventEmitter(), {
    stderr: child.stderr,
    write: (d: Buffer | string) => child.stdin.write(d),
    end: () => child.stdin.end(),
    close: () => child.kill(),
  });
  child.stdout.on('data', (d: Buffer) => channel.emit('data', d));
  child.on('close', () => channel.emit('close'));
  return { session: new DriverSession(channel as unknown as ClientChannel, 'local', undefined), pid: child.pid ?? 0 };
}

test('runner.pl: the runner source sent has no comment lines and its file lists filled in, and Perl compiles it', () => {
  const src = runnerSource();
  assert.doesNotMatch(src, /^\s*#/m);
  assert.doesNotMatch(src, /qw\((SESSION|HOME)_FILES\)/);
  assert.match(src, /qw\(\/etc\/passwd /);
  const check = spawnSync('perl', ['-c', '-e', src], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
});

test('runner protocol: a command frame runs sh with its stdin and answers rc, stdout and stderr', async () => {
  const { session } = localRunner();
  await session.started();
  const r = await session.run('read x; echo "out $x"; echo err >&2; exit 3', Buffer.from('in\n'));
  assert.deepEqual([r.rc, r.stdout, r.stderr], [3, 'out in\n', 'err\n']);
  session.close();
});

test('runner protocol: a probe goes as a probe frame and runs inside the runner (its pid), a dying probe is rc 1', async () => {
  const probe = perlProbe('print "pid=$$"');
  assert.match(
    requestFrame({ cmd: Buffer.from(probe), stdin: Buffer.alloc(0), timeoutMs: 0, force: false }).toString(),
    /^P /,
  );
  assert.match(
    requestFrame({ cmd: Buffer.from(probe), stdin: Buffer.from('x'), timeoutMs: 0, force: false }).toString(),
    /^R /,
  );
  assert.match(
    requestFrame({ cmd: Buffer.from('echo hi'), stdin: Buffer.alloc(0), timeoutMs: 5, force: true }).toString(),
    /^R 7 0 5 F\necho hi$/,
  );
  const { session, pid } = localRunner();
  await session.started();
  const r = await session.run(probe, Buffer.alloc(0));
  assert.deepEqual([r.rc, r.stdout], [0, `pid=${pid}`]);
  const dead = await session.run(perlProbe('die "no such thing\\n"'), Buffer.alloc(0));
  assert.deepEqual([dead.rc, dead.stdout, dead.stderr], [1, '', 'no such thing\n']);
  session.close();
});

test('runner protocol: requests sent at once are answered in order; a timeout answers rc 124 and the runner goes on', async () => {
  const { session } = localRunner();
  await session.started();
  const [a, b, c] = await Promise.all([
    session.run('echo one', Buffer.alloc(0)),
    session.run('sleep 5', Buffer.alloc(0), 300),
    session.run('echo three', Buffer.alloc(0)),
  ]);
  assert.deepEqual([a.stdout, b.rc, c.stdout], ['one\n', 124, 'three\n']);
  session.close();
});

test('runner protocol: a command that changes a session file (~/.bashrc) is answered, then the runner retires', async () => {
  const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
  const { session } = localRunner(home);
  await session.started();
  const r = await session.run('echo "export X=1" > "$HOME/.bashrc"; echo done', Buffer.alloc(0));
  assert.equal(r.stdout, 'done\n');
  assert.equal(session.alive, false);
  await assert.rejects(session.run('echo again', Buffer.alloc(0)), StaleSession);
});
