import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import { BECOME_TIMEOUT_MS, becomeIds } from '../../src/transport/become.js';
import { DriverSession, requestFrame, StaleSession } from '../../src/transport/driver.js';
import { HOME_FILES, runnerSource } from '../../src/transport/runner-source.js';
import { perlProbe, STARTS_PROCESSES } from '../../src/transport/probe-command.js';
import { perlWrite } from '../../src/transport/write-command.js';

// The runner (src/transport/runner.pl) and its controller end (DriverSession) speaking the protocol over a
// local perl process's pipes (test/helpers/local-runner.ts) instead of an SSH channel: no lab needed.
import { localRunner } from '../helpers/local-runner.js';

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

// The session checks: by inotify (a check with no event pending reads one empty queue) and by stat alone (where
// inotify is not to be had), each case both ways.
for (const inotify of [true, false]) {
  const how = inotify ? ' (inotify)' : ' (stat checks)';
  test(`runner protocol${how}: a command that changes a session file (its own test file) is answered, then the runner retires`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    const file = join(home, 'sudoers');
    const { session } = localRunner(home, [], { session: [file], inotify });
    await session.started();
    const r = await session.run(`echo "Defaults env_reset" > ${file}; echo done`, Buffer.alloc(0));
    assert.equal(r.stdout, 'done\n');
    assert.equal(session.alive, false);
    await assert.rejects(session.run('echo again', Buffer.alloc(0)), StaleSession);
  });

  test(`runner protocol${how}: after a command changes a process-only file (environment) probes still run there, a command does not`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    const env = join(home, 'environment');
    const { session, pid } = localRunner(home, [], { session: [env], process: [env], inotify });
    await session.started();
    const r = await session.run(`echo "X=1" > ${env}; echo done`, Buffer.alloc(0));
    assert.equal(r.stdout, 'done\n');
    assert.equal(session.alive, true);
    assert.equal((await session.run(perlProbe('print $$'), Buffer.alloc(0))).stdout, String(pid));
    // a probe that starts programs (facts: env) needs the new session too
    await assert.rejects(session.run(perlProbe(`${STARTS_PROCESSES}print $$`), Buffer.alloc(0)), StaleSession);
    assert.equal(session.alive, false);
  });

  test(`runner protocol${how}: ~/.bashrc (it may set the umask writes use) retires the runner for probes too`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    const { session } = localRunner(home, [], { inotify });
    await session.started();
    assert.equal(
      (await session.run('echo "umask 077" > "$HOME/.bashrc"; echo done', Buffer.alloc(0))).stdout,
      'done\n',
    );
    await assert.rejects(session.run(perlProbe('print 1'), Buffer.alloc(0)), StaleSession);
  });

  test(`runner protocol${how}: a session file changed between two requests makes the later one stale (checked before it)`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    const file = join(home, 'limits');
    const { session } = localRunner(home, [], { session: [file], inotify });
    await session.started();
    assert.equal((await session.run(perlProbe('print "first"'), Buffer.alloc(0))).stdout, 'first');
    // changed by another process (another runner, an admin) after the first answer, before the next request
    writeFileSync(file, '* hard nofile 1024\n');
    await assert.rejects(session.run(perlProbe('print "second"'), Buffer.alloc(0)), StaleSession);
  });

  test(`runner protocol${how}: a process-only file changed by another process: a probe runs, then a command and all after it are refused`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    const env = join(home, 'environment');
    const { session } = localRunner(home, [], { session: [env], process: [env], inotify });
    await session.started();
    assert.equal((await session.run(perlProbe('print "first"'), Buffer.alloc(0))).stdout, 'first');
    writeFileSync(env, 'X=1\n');
    // sent together: the runner alone knows; the probe after the command must not run before it
    const [a, b, c] = await Promise.allSettled([
      session.run(perlProbe('print "second"'), Buffer.alloc(0)),
      session.run('echo third', Buffer.alloc(0)),
      session.run(perlProbe('print "fourth"'), Buffer.alloc(0)),
    ]);
    assert.equal(a.status === 'fulfilled' && a.value.stdout, 'second');
    assert.ok(b.status === 'rejected' && b.reason instanceof StaleSession);
    assert.ok(c.status === 'rejected' && c.reason instanceof StaleSession);
  });

  test(`runner protocol${how}: a file added to a watched directory of process-only files keeps probes there; one added to a session directory retires it`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    const [limits, pam] = [join(home, 'limits.d'), join(home, 'pam.d')];
    mkdirSync(limits);
    mkdirSync(pam);
    const { session, pid } = localRunner(home, [], {
      session: [`${pam}/`, `${limits}/`],
      process: [`${limits}/`],
      inotify,
    });
    await session.started();
    // a temporary file made and removed changes the directory's times only: nothing changed
    assert.equal(
      (await session.run(`touch ${limits}/.tmp; rm ${limits}/.tmp; echo ok`, Buffer.alloc(0))).stdout,
      'ok\n',
    );
    assert.equal((await session.run('echo still here', Buffer.alloc(0))).stdout, 'still here\n');
    writeFileSync(join(limits, '70-app.conf'), '* soft nofile 4096\n');
    assert.equal((await session.run(perlProbe('print $$'), Buffer.alloc(0))).stdout, String(pid));
    writeFileSync(join(pam, 'sudo'), 'auth sufficient pam_permit.so\n');
    await assert.rejects(session.run(perlProbe('print $$'), Buffer.alloc(0)), StaleSession);
  });

  test(`runner protocol${how}: a session file made later with its directory (/etc/zsh/zshenv) retires the runner`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    const { session } = localRunner(home, [], { session: [join(home, 'zsh', 'zshenv')], inotify });
    await session.started();
    assert.equal((await session.run(perlProbe('print 1'), Buffer.alloc(0))).stdout, '1');
    mkdirSync(join(home, 'zsh'));
    assert.equal((await session.run(perlProbe('print 2'), Buffer.alloc(0))).stdout, '2');
    writeFileSync(join(home, 'zsh', 'zshenv'), 'umask 077\n');
    await assert.rejects(session.run(perlProbe('print 3'), Buffer.alloc(0)), StaleSession);
  });

  test(`runner protocol${how}: a session file rewritten at once with as many bytes (same second, same size) retires the runner`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    const file = join(home, 'login.defs');
    writeFileSync(file, 'UMASK 022\n');
    const { session } = localRunner(home, [], { session: [file], inotify });
    await session.started();
    writeFileSync(file, 'UMASK 077\n');
    await assert.rejects(session.run(perlProbe('print 1'), Buffer.alloc(0)), StaleSession);
  });

  test(`runner protocol${how}: as nobody, a root-only file in a directory it may enter but not read: a change retires the runner`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    chmodSync(home, 0o755);
    const dir = join(home, 'sudo.d');
    mkdirSync(dir);
    writeFileSync(join(dir, 'policy'), 'a\n');
    chmodSync(join(dir, 'policy'), 0o600);
    chmodSync(dir, 0o711);
    const asNobody = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
    const { session } = localRunner(home, asNobody, { session: [join(dir, 'policy')], inotify });
    await session.started();
    assert.equal((await session.run(perlProbe('print 1'), Buffer.alloc(0))).stdout, '1');
    writeFileSync(join(dir, 'policy'), 'a longer policy\n');
    await assert.rejects(session.run(perlProbe('print 2'), Buffer.alloc(0)), StaleSession);
  });

  test(`runner protocol${how}: a session file that is a symlink: a change of its target retires the runner`, async () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    const [target, link] = [join(home, 'environment.real'), join(home, 'environment')];
    writeFileSync(target, 'A=1\n');
    symlinkSync(target, link);
    const { session } = localRunner(home, [], { session: [link], inotify });
    await session.started();
    assert.equal((await session.run(perlProbe('print 1'), Buffer.alloc(0))).stdout, '1');
    writeFileSync(target, 'A=22\n');
    await assert.rejects(session.run(perlProbe('print 2'), Buffer.alloc(0)), StaleSession);
  });
}

test(
  'runner protocol: a command fed 1 MB on stdin that writes it back as it reads (cat) gets it whole (no deadlock)',
  { timeout: 30_000 },
  async () => {
    const { session } = localRunner();
    await session.started();
    const input = Buffer.alloc(1 << 20, 'x');
    const r = await session.run('cat', input, 20_000);
    assert.equal([r.rc, r.stdout.length].join(' '), `0 ${input.length}`);
    session.close();
  },
);

/** How many stat calls the runner makes while answering `count` probes, sent together or one at a time. */
async function statsForProbes(count: number, together: boolean, inotify: boolean, home?: string): Promise<number> {
  const trace = join(mkdtempSync(join(tmpdir(), 'orch-runner-trace-')), 'stat');
  const strace = ['strace', '-qq', '-o', trace, '-e', 'trace=newfstatat,stat,lstat,statx'];
  const { session } = localRunner(home, strace, { inotify });
  await session.started();
  const before = readFileSync(trace, 'utf8').split('\n').length;
  const probe = () => session.run(perlProbe('print "x"'), Buffer.alloc(0));
  if (together) await Promise.all(Array.from({ length: count }, probe));
  else for (let i = 0; i < count; i++) await probe();
  session.close();
  return readFileSync(trace, 'utf8').split('\n').length - before;
}

const noStrace = spawnSync('strace', ['-V']).status !== 0 && 'needs strace';

test(
  'runner protocol (stat checks): probes sent together cost one session check, probes sent one by one one check each',
  { skip: noStrace },
  async () => {
    const oneByOne = await statsForProbes(20, false, false);
    const together = await statsForProbes(20, true, false);
    // one check stats every session file (~20 paths here); one by one is 20 checks, together at most 2
    assert.ok(oneByOne >= 20 * 10, `one by one: ${oneByOne} stat calls`);
    assert.ok(together <= oneByOne / 8, `together: ${together} stat calls, one by one: ${oneByOne}`);
  },
);

test(
  'runner protocol (inotify): a session check with nothing changed stats only the home files, not those under /etc',
  { skip: noStrace },
  async () => {
    // a home file written just before the runner starts is compared by content too, and still no full check
    const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
    writeFileSync(join(home, '.bashrc'), 'alias ll="ls -l"\n');
    const withInotify = await statsForProbes(20, false, true, home);
    const withStat = await statsForProbes(20, false, false);
    // 4 home files a check (HOME_FILES; the recent one read, an fstat or two more), against every session file
    // and every file of the listed directories; the first probe's output handle loads PerlIO::scalar (~45 stats)
    assert.ok(withInotify <= 20 * (HOME_FILES.length + 2) + 60, `inotify: ${withInotify} stat calls`);
    assert.ok(withInotify * 2 < withStat, `inotify: ${withInotify} stat calls, stat checks: ${withStat}`);
  },
);

test('runner protocol: a write goes as a write frame with its bytes and runs inside the runner (its pid)', async () => {
  const write = perlWrite('print "pid=$$ in=$main::ORCH_IN"');
  assert.match(
    requestFrame({ cmd: Buffer.from(write), stdin: Buffer.from('abc'), timeoutMs: 0, force: false }).toString(),
    /^W \d+ 3 0\n.*abc$/s,
  );
  const { session, pid } = localRunner();
  await session.started();
  const r = await session.run(write, Buffer.from('bytes'));
  assert.deepEqual([r.rc, r.stdout], [0, `pid=${pid} in=bytes`]);
  const probeAfter = await session.run(perlProbe('print defined $main::ORCH_IN ? "leaked" : "none"'), Buffer.alloc(0));
  assert.equal(probeAfter.stdout, 'none', 'the bytes are gone once the write is answered');
  session.close();
});

test('runner protocol: a command the runner cannot fork for (no processes left) is rc 127, and the runner goes on', async () => {
  // as nobody with a limit of one process (the runner itself): every fork fails with EAGAIN
  const home = mkdtempSync(join(tmpdir(), 'orch-runner-home-'));
  chmodSync(home, 0o777);
  const limited = ['prlimit', '--nproc=1', 'setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
  const { session } = localRunner(home, limited);
  await session.started();
  const r = await session.run('echo never', Buffer.alloc(0));
  assert.deepEqual([r.rc, r.stdout], [127, '']);
  assert.match(r.stderr, /^orch runner: cannot start the command: Resource temporarily unavailable/);
  const probe = await session.run(perlProbe('print "still here"'), Buffer.alloc(0));
  assert.equal(probe.stdout, 'still here');
  session.close();
});

test('runner protocol: a runner that goes away says how (its signal, or its exit status and last stderr)', async () => {
  const killed = localRunner();
  await killed.session.started();
  const pending = killed.session.run('sleep 5', Buffer.alloc(0));
  process.kill(killed.pid, 'SIGKILL');
  await assert.rejects(pending, { message: 'command runner on the host stopped (killed by SIGKILL)' });
  const exited = localRunner();
  await exited.session.started();
  await assert.rejects(exited.session.run(perlProbe('print STDERR "last words\\n"; exit 3'), Buffer.alloc(0)), {
    message: 'command runner on the host stopped (exit status 3): last words',
  });
});

/**
 * A DriverSession on a MOCK channel (no process, no SSH) that has said it is ready: `calls` records what the
 * session does to the channel, in order (`write` with the bytes, `end`, `close`); `stderr` is the channel's.
 */
function mockSession(become?: ConstructorParameters<typeof DriverSession>[2]) {
  const calls: (Buffer | 'end' | 'close')[] = [];
  const stderr = new EventEmitter();
  const channel = Object.assign(new EventEmitter(), {
    stderr,
    write: (d: Buffer | string) => calls.push(Buffer.isBuffer(d) ? d : Buffer.from(d)),
    end: () => calls.push('end'),
    close: () => calls.push('close'),
  });
  const session = new DriverSession(channel as unknown as ClientChannel, 'h1', become);
  channel.emit('data', Buffer.from('ORCH-DRIVER-READY\n'));
  const writes = () => calls.filter((c): c is Buffer => Buffer.isBuffer(c));
  return { session, channel, stderr, calls, writes };
}

test('runner with become: ready on stdout before the become marker on stderr: sudo time limit does not close it', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const ids = becomeIds();
  // the order in which sshd hands over stdout and stderr under load: ready first, then the marker
  const { session, stderr, calls } = mockSession({ settings: { user: 'root', method: 'sudo' }, ids });
  stderr.emit('data', Buffer.from(`${ids.marker}\n`));
  t.mock.timers.tick(BECOME_TIMEOUT_MS + 1000);
  assert.deepEqual([calls.includes('close'), session.alive], [false, true]);
});

test('runner protocol: commands asked for in one turn of the event loop go out as one write (one SSH packet)', async () => {
  const { session, channel, writes } = mockSession();
  const answers = ['a', 'b', 'c'].map((c) => session.run(`echo ${c}`, Buffer.alloc(0)));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(writes().length, 1);
  assert.equal(writes()[0]?.toString(), 'R 6 0 0\necho aR 6 0 0\necho bR 6 0 0\necho c');
  channel.emit('data', Buffer.from('X 0 2 0\na\nX 0 2 0\nb\nX 0 2 0\nc\n'));
  assert.deepEqual(
    (await Promise.all(answers)).map((r) => r.stdout),
    ['a\n', 'b\n', 'c\n'],
  );
});

test('runner with become su: once the runner is ready, stderr before the marker is never taken for a prompt (no password sent)', () => {
  const ids = becomeIds();
  // su wrote a warning ("su: warning: ...", in pieces) before the marker; stdout came in first
  const { session, stderr, writes } = mockSession({
    settings: { user: 'postgres', method: 'su', password: 'Secret-1' },
    ids,
  });
  stderr.emit('data', Buffer.from('su: '));
  stderr.emit('data', Buffer.from(`warning: something\n${ids.marker}\n`));
  assert.deepEqual([writes(), session.alive], [[], true]);
});

test('runner protocol: a command asked for just before close() is written before the channel ends (no write after end)', async () => {
  const { session, calls } = mockSession();
  void session.run('echo a', Buffer.alloc(0)).catch(() => undefined);
  session.close();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    calls.map((c) => (Buffer.isBuffer(c) ? `write ${c.toString()}` : c)),
    ['write R 6 0 0\necho a', 'end'],
  );
});

test('runner protocol: a frame alone in its turn goes out as built (its big stdin is not copied once more)', async (t) => {
  const { session, writes } = mockSession();
  const content = Buffer.alloc(8 << 20, 1);
  const concat = t.mock.method(Buffer, 'concat');
  void session.run('cat >/dev/null', content).catch(() => undefined);
  await new Promise((resolve) => setImmediate(resolve));
  const copies = concat.mock.calls.filter((c) => (c.result?.length ?? 0) >= content.length);
  assert.deepEqual([writes().length, copies.length], [1, 1], 'requestFrame builds the frame, nothing copies it again');
  assert.equal(writes()[0], copies[0]?.result);
});
