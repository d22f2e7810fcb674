import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { perlWritable, perlWriteCommand, type PerlWriteOptions } from '../../src/modules/file-write.js';
import { atomicWriteScript } from '../../src/modules/remote-file.js';
import { cachedCode } from '../../src/transport/code-cache.js';
import { writeCode } from '../../src/transport/write-command.js';
import { localRunner } from '../helpers/local-runner.js';

// The Perl write (a write frame in the runner, or `perl -e` elsewhere) against the shell script it stands in
// for, both run here (the controller is a Debian system too): same bytes, mode, owner, errors, no temp left.

const BYTES = Buffer.from([0, 255, 10, 39, 36, 40, 96, 0x27, 0x0a, 0xc3]); // NUL, invalid UTF-8, ' $ ( `
const run = (command: string, stdin: Buffer) => spawnSync('sh', ['-c', command], { input: stdin, encoding: 'utf8' });
const fresh = () => mkdtempSync(join(tmpdir(), 'orch-write-'));
const state = (p: string) => {
  const s = statSync(p);
  return { bytes: readFileSync(p).toString('hex'), mode: (s.mode & 0o7777).toString(8), uid: s.uid, gid: s.gid };
};
const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('.orch-tmp'));

const cases: [string, (dir: string) => string, PerlWriteOptions][] = [
  ['a new file (0644)', (d) => join(d, 'new file $(x)'), {}],
  [
    'an existing 0600 file owned by another user (mode and owner kept)',
    (d) => {
      const p = join(d, 'old');
      writeFileSync(p, 'old');
      chmodSync(p, 0o600);
      chownSync(p, 54321, 54322);
      return p;
    },
    {},
  ],
  ['a mode asked for (setgid)', (d) => join(d, 'm'), { mode: '2750' }],
  ['an owner and group by name and number', (d) => join(d, 'o'), { owner: 'nobody', group: '54323' }],
  ['a group alone', (d) => join(d, 'g'), { group: 'nogroup' }],
  [
    'a chain of symlinks written through (its final target gets the bytes)',
    (d) => {
      writeFileSync(join(d, 'target'), 'old');
      symlinkSync(join(d, 'target'), join(d, 'l1'));
      symlinkSync('l1', join(d, 'l2'));
      return join(d, 'l2');
    },
    { throughLinks: true },
  ],
];

for (const [what, setUp, opts] of cases) {
  test(`perl write: ${what} ends as the shell script leaves it`, () => {
    const [a, b] = [fresh(), fresh()];
    const [pa, pb] = [setUp(a), setUp(b)];
    const byShell = run(atomicWriteScript(pa, opts), BYTES);
    const byPerl = run(perlWriteCommand(pb, opts), BYTES);
    assert.equal(byShell.status, 0, byShell.stderr);
    assert.equal(byPerl.status, 0, byPerl.stderr);
    assert.deepEqual(state(pb), state(pa));
    if (opts.throughLinks) assert.equal(lstatSync(pb).isSymbolicLink(), true, 'the link stays a link');
    assert.equal(state(pb).bytes, BYTES.toString('hex'));
    assert.deepEqual([leftovers(a), leftovers(b)], [[], []]);
  });
}

for (const [owner, group] of [
  ['no-such-user-x', undefined],
  ['nobody', 'no-such-group-x'],
]) {
  test(`perl write: an unknown user or group (${owner}:${group}) fails with chown's message, old file untouched`, () => {
    const dir = fresh();
    const p = join(dir, 'keep');
    writeFileSync(p, 'old');
    const byShell = run(atomicWriteScript(p, { owner, group }), BYTES);
    const r = run(perlWriteCommand(p, { owner, group }), BYTES);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /^chown: invalid (user|group): /);
    assert.equal(r.stderr, byShell.stderr, "the message chown prints (its quotes are the locale's)");
    assert.equal(readFileSync(p, 'utf8'), 'old');
    assert.deepEqual(leftovers(dir), []);
  });
}

test('perl write: a directory nobody may write into fails as mktemp does (run as nobody)', () => {
  const dir = fresh();
  mkdirSync(join(dir, 'ro'), { mode: 0o755 });
  chmodSync(dir, 0o755);
  const p = join(dir, 'ro', 'f');
  const asNobody = (cmd: string) =>
    spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'sh', '-c', cmd], {
      input: BYTES,
      encoding: 'utf8',
    });
  const r = asNobody(perlWriteCommand(p));
  assert.notEqual(r.status, 0);
  assert.match(
    r.stderr,
    /^mktemp: failed to create file via template .*\/ro\/\.orch-tmp\.XXXXXX.: Permission denied\n$/,
  );
  assert.equal(r.stderr, asNobody(atomicWriteScript(p, {})).stderr);
});

test('perl write: in the runner (a write frame) the bytes arrive exactly and the file is written', async () => {
  const dir = fresh();
  const p = join(dir, 'via-runner');
  const { session } = localRunner();
  await session.started();
  const r = await session.run(perlWriteCommand(p, { mode: '0640' }), BYTES);
  session.close();
  assert.equal(r.rc, 0, r.stderr);
  assert.deepEqual([state(p).bytes, state(p).mode], [BYTES.toString('hex'), '640']);
  assert.deepEqual(leftovers(dir), []);
});

test('perl write: what it cannot do (validate, backup, symbolic modes, remote_src) stays with the shell script', () => {
  assert.equal(perlWritable({ mode: '0644' }), true);
  assert.equal(perlWritable({ validate: 'visudo -cf %s' }), false);
  assert.equal(perlWritable({ backup: true }), false);
  assert.equal(perlWritable({ mode: 'u+rw' }), false);
  assert.equal(perlWritable({ fromPath: '/etc/hostname' }), false, "copy remote_src: the bytes are the host's file");
  assert.equal(perlWritable({ owner: 'first.last' }), false, "chown's USER.GROUP form");
  assert.equal(perlWritable({ owner: 'nobody', group: ' 5' }), false, 'a number by strtoul rules');
  assert.equal(perlWritable({ owner: 'nobody', group: 'nogroup' }), true);
});

test('perl write: the temp file is 0600 while its bytes arrive (streamed from stdin), the file 0644 once renamed', async () => {
  const dir = fresh();
  const p = join(dir, 'streamed');
  const child = spawn('sh', ['-c', perlWriteCommand(p)], { stdio: ['pipe', 'ignore', 'pipe'] });
  child.stdin.write('first part, the rest still to come\n');
  let temp: string | undefined;
  for (let i = 0; i < 100 && temp === undefined; i++) {
    await new Promise((r) => setTimeout(r, 20));
    temp = leftovers(dir)[0];
  }
  assert.ok(temp, 'the temp file exists while stdin is open');
  assert.equal((statSync(join(dir, temp)).mode & 0o777).toString(8), '600');
  child.stdin.end('the rest\n');
  await new Promise((r) => child.on('exit', r));
  assert.equal(readFileSync(p, 'utf8'), 'first part, the rest still to come\nthe rest\n');
  assert.equal(state(p).mode, '644');
  assert.deepEqual(leftovers(dir), []);
});

test(
  'perl write: the temp file is fsynced after its last byte is written and before the rename, without loading IO',
  { skip: spawnSync('strace', ['-V']).status !== 0 && 'needs strace' },
  () => {
    const dir = fresh();
    const trace = join(dir, 'trace');
    const script = `strace -f -qq -o ${trace} -e trace=write,fsync,rename,openat sh -c "$1"`;
    const r = spawnSync('sh', ['-c', script, 'sh', perlWriteCommand(join(dir, 'f'))], {
      input: BYTES,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const calls = readFileSync(trace, 'utf8').split('\n');
    const at = (re: RegExp) => calls.findIndex((l) => re.test(l));
    const [wrote, synced, renamed] = [at(/ write\(\d+, "\\0\\377/), at(/ fsync\(\d+\) += 0/), at(/ rename\(/)];
    assert.ok(wrote >= 0 && wrote < synced && synced < renamed, calls.join('\n'));
    assert.equal(at(/IO\.pm/), -1, 'IO is not loaded');
  },
);

test('perl write: every write is one code whatever its mode, owner, links or live value (compiled once a runner)', () => {
  const templates = new Set(
    (
      [
        {},
        { mode: '0640' },
        { owner: 'www-data', group: 'adm', mode: '2750' },
        { throughLinks: true },
        { then: { mark: 'WRITTEN', path: '/proc/sys/net/core/somaxconn', text: '8192\n' } },
      ] as PerlWriteOptions[]
    ).map((o, i) => cachedCode(writeCode(perlWriteCommand(`/etc/f${i}`, o)) ?? '')?.template),
  );
  assert.equal(templates.size, 1);
});
