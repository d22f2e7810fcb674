import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { cachedCode } from '../../src/transport/code-cache.js';
import { requestFrame } from '../../src/transport/driver.js';
import { runnerSource } from '../../src/transport/runner-source.js';
import { perlProbe } from '../../src/transport/probe-command.js';
import { perlWrite } from '../../src/transport/write-command.js';
import { perlString } from '../../src/modules/probe.js';
import { localRunner } from '../helpers/local-runner.js';

// The runner's cache of compiled code (runner.pl "Cached code", src/transport/code-cache.ts): frames as built,
// and the runner (a local perl process) answering them.

const NONE = Buffer.alloc(0);
const frame = (cmd: string, known: Set<number>, stdin = NONE) =>
  requestFrame({ cmd: Buffer.from(cmd), stdin, timeoutMs: 0, force: false }, known).toString('latin1');

/** Values that must reach Perl as they are: quotes, newlines, shell and Perl interpolation, non-ASCII. */
const HOSTILE = [
  '',
  "it's",
  'say "hi"',
  'a\nb\n',
  '$(touch /tmp/orch-pwned)',
  '`id`',
  '@{[ die "interpolated" ]}',
  '${\\ die}',
  ') . die(',
  'pack("H*","41")',
  'é ü \u{1F600}',
  ' lead and trail ',
];

/** The probe: each value as hex, one a line (what Perl got, byte for byte). */
const hexProbe = (values: string[]) =>
  perlProbe(values.map((v) => `print unpack("H*", ${perlString(v)}), "\\n";`).join(' '));

test('code cache: the values come out of the code as hex arguments; the template has none of them', () => {
  const known = new Set<number>();
  const first = frame(hexProbe(['/etc/a b', "x'y"]), known);
  const [head = '', idLine = '', ...code] = first.split('\n');
  assert.match(head, /^p \d+ 0 0$/);
  const [id, ...args] = idLine.split(' ');
  assert.deepEqual(args, [Buffer.from('/etc/a b').toString('hex'), Buffer.from("x'y").toString('hex')]);
  assert.match(code.join('\n'), /\$ORCH_A\[0\].*\$ORCH_A\[1\]/s);
  for (const a of args) assert.ok(!code.join('\n').includes(a), 'a value is not in the template');
  // the same code with other values, to the same runner: the id and the values only
  const second = frame(hexProbe(['/other', 'z']), known);
  assert.equal(second, `p ${`${id} 2f6f74686572 7a\n`.length} 0 0\n${id} 2f6f74686572 7a\n`);
  // to a new runner (a stale session's replacement, a retry): the code again
  assert.equal(frame(hexProbe(['/other', 'z']), new Set()).split('\n').length, first.split('\n').length);
});

test('code cache: hostile values reach Perl byte for byte in the runner (cached) as with perl -e', async () => {
  const want = HOSTILE.map((v) => `${Buffer.from(v).toString('hex')}\n`).join('');
  const direct = spawnSync('sh', ['-c', hexProbe(HOSTILE)], { encoding: 'utf8' });
  assert.equal(direct.stdout, want, direct.stderr);
  const { session } = localRunner();
  await session.started();
  for (let i = 0; i < 2; i++) {
    const r = await session.run(hexProbe(HOSTILE), NONE);
    assert.deepEqual([r.rc, r.stdout, r.stderr], [0, want, ''], `run ${i + 1}`);
  }
  // bytes that are not UTF-8 (a hex literal written by hand)
  const bytes = await session.run(perlProbe('print unpack("H*", pack("H*","ff80c328"));'), NONE);
  assert.equal(bytes.stdout, 'ff80c328');
  session.close();
});

test('code cache: many codes, one the start of another, each run by its own id in one runner, then by reference', async () => {
  // ids 1..n: "1" is the start of "10", "11"...; code `print A` is the start of `print A . "1"`
  const codes = Array.from({ length: 14 }, (_, i) => `print ${perlString('v')}${' . "1"'.repeat(i)};`);
  const { session } = localRunner();
  await session.started();
  for (let round = 0; round < 2; round++) {
    const out = await Promise.all(codes.map((c) => session.run(perlProbe(c), NONE)));
    assert.deepEqual(
      out.map((r) => r.stdout),
      codes.map((_, i) => `v${'1'.repeat(i)}`),
    );
  }
  session.close();
});

test('code cache: a write frame sent by reference gets its own bytes and values, not those of the first frame', async () => {
  const write = (v: string) => perlWrite(`print ${perlString(v)}, "=", $main::ORCH_IN;`);
  const known = new Set<number>();
  assert.match(frame(write('a'), known, Buffer.from('x')), /^w \d+ 1 0\n\d+ 61\n.*x$/s);
  assert.match(frame(write('b'), known, Buffer.from('y')), /^w \d+ 1 0\n\d+ 62\ny$/);
  const { session } = localRunner();
  await session.started();
  const [a, b] = await Promise.all([
    session.run(write('a'), Buffer.from('x')),
    session.run(write('b'), Buffer.from('y')),
  ]);
  assert.deepEqual([a.stdout, b.stdout], ['a=x', 'b=y']);
  session.close();
});

test('code cache: code that does not compile fails each time it is called, with the same message, and the runner goes on', async () => {
  const { session } = localRunner();
  await session.started();
  const bad = perlProbe(`print ${perlString('x')} +;`);
  const [a, b] = [await session.run(bad, NONE), await session.run(bad, NONE)];
  assert.deepEqual([a.rc, b.rc], [1, 1]);
  assert.match(a.stderr, /^syntax error/);
  assert.equal(b.stderr, a.stderr);
  assert.equal((await session.run(perlProbe('print "ok"'), NONE)).stdout, 'ok');
  session.close();
});

/** Raw frames to a local runner, and its raw answers. */
async function rawRunner(frames: string): Promise<string> {
  const child = spawn('perl', ['-e', runnerSource()], { stdio: 'pipe' });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  child.stdin.end(frames);
  await new Promise((resolve) => child.on('close', resolve));
  return out;
}

test('code cache: a reference to code this runner was never sent answers rc 1 and says so; the runner goes on', async () => {
  const ref = '987654 41\n';
  const known = `1 41\nprint $ORCH_A[0];`;
  const out = await rawRunner(`p ${ref.length} 0 0\n${ref}p ${known.length} 0 0\n${known}`);
  const e = 'orch runner: no code 987654 here\n';
  assert.equal(out, `ORCH-DRIVER-READY\nX 1 0 ${e.length}\n${e}X 0 1 0\nA`);
});

test('code cache: a new runner (restarted after a stale session) is sent the code again and runs it', async () => {
  const probe = hexProbe(['same code, new runner']);
  const id = cachedCode(probe.slice("perl -e '".length, -"' orch-probe".length))?.id;
  assert.ok(id !== undefined);
  for (let i = 0; i < 2; i++) {
    const { session } = localRunner();
    await session.started();
    const r = await session.run(probe, NONE);
    assert.deepEqual([r.rc, r.stdout], [0, `${Buffer.from('same code, new runner').toString('hex')}\n`]);
    session.close();
  }
});

// last in this file: it fills the process's table of templates
test('code cache: past its limit of templates a new code goes in full as a plain frame; known ones stay cached', () => {
  const known = new Set<number>();
  const kept = hexProbe(['kept']);
  assert.match(frame(kept, known), /^p /);
  for (let i = 0; cachedCode(`print ${i};`) !== undefined; i++) assert.ok(i < 10_000, 'the table has a limit');
  const fresh = perlProbe('print "a code never seen";');
  assert.equal(frame(fresh, known), `P ${'print "a code never seen";'.length} 0 0\nprint "a code never seen";`);
  assert.match(frame(kept, known), /^p \d+ 0 0\n\d+ [0-9a-f]+\n$/);
});
