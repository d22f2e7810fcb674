import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { file } from '../../src/modules/file.js';
import { perlFileCommand } from '../../src/modules/file-ops.js';
import { perlProbe } from '../../src/transport/probe-command.js';
import { compareCases, fresh, gnarly, touch, type Case } from '../helpers/file-ops-compare.js';
import { localRunner } from '../helpers/local-runner.js';

// The file module's steps that make and remove paths, as Perl and as the shell commands (helpers/file-ops-compare.ts).

const cases: Case[] = [
  [
    'nested new directories, a name with a quote, newline and spaces, then mode, owner and group',
    () => undefined,
    (d) => {
      const p = join(d, gnarly, 'x y');
      return [
        { op: 'mkdir', path: p },
        { op: 'chmod', mode: '0750', path: p },
        { op: 'chown', owner: 'nobody', path: p, noDereference: false },
        { op: 'chgrp', group: 'nogroup', path: p, noDereference: false },
      ];
    },
  ],
  ['mkdir under a file', (d) => touch(join(d, 'f')), (d) => [{ op: 'mkdir', path: join(d, 'f', 's', 't') }]],
  ['mkdir where a file is', (d) => touch(join(d, "it's\n")), (d) => [{ op: 'mkdir', path: join(d, "it's\n") }]],
  [
    'mkdir through a dangling link',
    (d) => symlinkSync('/nonexistent-orch', join(d, 'dl')),
    (d) => [{ op: 'mkdir', path: join(d, 'dl', 'x') }],
  ],
  [
    'mkdir in a directory nobody may write (as nobody)',
    (d) => mkdirSync(join(d, 'ro'), { mode: 0o755 }),
    (d) => [{ op: 'mkdir', path: join(d, 'ro', 'a', 'b') }],
    true,
  ],
  [
    'mkdir through a directory nobody may enter (as nobody)',
    (d) => mkdirSync(join(d, 'nx'), { mode: 0o666 }),
    (d) => [{ op: 'mkdir', path: join(d, 'nx', 'a', 'b') }],
    true,
  ],
  [
    'touch a new file with a leading dash, then both times now',
    () => undefined,
    (d) => [
      { op: 'touch', path: join(d, '-x') },
      { op: 'chmod', mode: '0600', path: join(d, '-x') },
      { op: 'time', flag: '-m', path: join(d, '-x') },
      { op: 'time', flag: '-a', path: join(d, '-x') },
    ],
  ],
  [
    "a file's parent directories (mkdir -p of its dirname), trailing slash, newline ending the dirname",
    () => undefined,
    (d) => [
      { op: 'mkdirParent', path: join(d, 'p q', 'r', 'f') },
      { op: 'mkdirParent', path: join(d, 's', 't', '') + '/' },
      { op: 'mkdirParent', path: join(d, 'nl\n', 'f') },
      { op: 'mkdirParent', path: 'relative-f' },
    ],
  ],
  [
    "a file's parent under a file",
    (d) => touch(join(d, 'f')),
    (d) => [{ op: 'mkdirParent', path: join(d, 'f', 'g', 'h') }],
  ],
  ['touch in a missing directory', () => undefined, (d) => [{ op: 'touch', path: join(d, 'no', 'f') }]],
  [
    "touch root's file (as nobody)",
    (d) => (touch(join(d, 'f')), chmodSync(join(d, 'f'), 0o644)),
    (d) => [{ op: 'touch', path: join(d, 'f') }],
    true,
  ],
  [
    'rm a tree with a link to a directory outside (not followed)',
    (d) => {
      mkdirSync(join(d, 'keep'));
      touch(join(d, 'keep', 'k'));
      mkdirSync(join(d, 't', 's', 'u'), { recursive: true });
      touch(join(d, 't', 's', 'u', gnarly));
      symlinkSync(join(d, 'keep'), join(d, 't', 'l'));
    },
    (d) => [{ op: 'rm', path: join(d, 't') }],
  ],
  [
    "rm root's tree in a world-writable directory (as nobody): each entry that stays told",
    (d) => {
      mkdirSync(join(d, 't', 's', 'u'), { recursive: true, mode: 0o755 });
      touch(join(d, 't', 's', 'u', 'z'));
      touch(join(d, 't', 'a'));
      mkdirSync(join(d, 't', 'e'));
      chmodSync(join(d, 't', 'e'), 0o777);
      mkdirSync(join(d, 't', 'nr', 'q'), { recursive: true });
      chmodSync(join(d, 't', 'nr'), 0o333);
    },
    (d) => [{ op: 'rm', path: join(d, 't') }],
    true,
  ],
  [
    'a new symlink, then one replaced',
    (d) => symlinkSync('old', join(d, 'l2')),
    (d) => [
      { op: 'symlink', src: '../target with space', path: join(d, 'l') },
      { op: 'symlink', src: 'new', path: join(d, 'l2') },
    ],
  ],
  [
    'a symlink over a directory',
    (d) => mkdirSync(join(d, 'dir', 'x'), { recursive: true }),
    (d) => [{ op: 'symlink', src: 't', path: join(d, 'dir') }],
  ],
  ['a symlink in a missing directory', () => undefined, (d) => [{ op: 'symlink', src: 't', path: join(d, 'no', 'l') }]],
  [
    'a symlink in a directory nobody may write (as nobody)',
    (d) => mkdirSync(join(d, 'ro'), { mode: 0o755 }),
    (d) => [{ op: 'symlink', src: 't', path: join(d, 'ro', 'l') }],
    true,
  ],
  [
    'hard links: made, from a missing source',
    (d) => touch(join(d, 'src')),
    (d) => [
      { op: 'hard', src: join(d, 'src'), path: join(d, 'h') },
      { op: 'hard', src: join(d, 'missing'), path: join(d, 'h2') },
    ],
  ],
  [
    'a hard link to a directory',
    (d) => mkdirSync(join(d, 'a dir:x')),
    (d) => [{ op: 'hard', src: join(d, 'a dir:x'), path: join(d, 'h') }],
  ],
  ['a hard link across devices', () => undefined, (d) => [{ op: 'hard', src: '/proc/version', path: join(d, 'h') }]],
];

compareCases(cases);

test('file ops in perl: in the runner (a write frame with no stdin) they run and fail with rc 1 and the message', async () => {
  const dir = fresh();
  const { session } = localRunner();
  await session.started();
  const ok = await session.run(perlFileCommand([{ op: 'mkdir', path: join(dir, 'a', 'b') }]) ?? '', Buffer.alloc(0));
  touch(join(dir, 'f'));
  const bad = await session.run(perlFileCommand([{ op: 'mkdir', path: join(dir, 'f', 'x') }]) ?? '', Buffer.alloc(0));
  session.close();
  assert.equal(ok.rc, 0, ok.stderr);
  assert.equal(lstatSync(join(dir, 'a', 'b')).isDirectory(), true);
  // mkdir itself, in the same environment (its quotes are the locale's)
  const tool = spawnSync('mkdir', ['-p', '--', join(dir, 'f', 'x')], { encoding: 'utf8' });
  assert.match(bad.stderr, /^mkdir: cannot create directory .*: Not a directory\n$/);
  assert.deepEqual([bad.rc, bad.stderr], [tool.status, tool.stderr]);
});

test('file ops in perl: what has no Perl form (times, chown USER:GROUP, rm of /) stays with the shell', () => {
  assert.equal(perlFileCommand([{ op: 'time', flag: '-m', path: '/f', epoch: 1 }]), undefined);
  assert.equal(perlFileCommand([{ op: 'time', flag: '-a', path: '/f' }]), undefined, 'atime alone: mtime kept');
  assert.equal(perlFileCommand([{ op: 'chown', owner: 'a:b', path: '/f', noDereference: false }]), undefined);
  assert.equal(perlFileCommand([{ op: 'chown', owner: 'first.last', path: '/f', noDereference: false }]), undefined);
  assert.equal(perlFileCommand([{ op: 'rm', path: '/' }]), undefined);
  for (const group of [' 5', '+5', '4294967295'])
    assert.equal(perlFileCommand([{ op: 'chgrp', group, path: '/f', noDereference: false }]), undefined, group);
  assert.equal(perlFileCommand([{ op: 'rm', path: '/srv/x/..' }]), undefined);
  assert.equal(perlFileCommand([{ op: 'chmod', mode: 'u+x', path: '/f' }]), undefined);
  assert.match(perlFileCommand([{ op: 'mkdir', path: "/it's" }]) ?? '', /^perl -e '[^']*' orch-write$/);
});

test('file module: directory, touch, link, hard, absent with octal or symbolic modes and owners send Perl, times the shell', async () => {
  const sent = async (params: Record<string, unknown>, stat: string) => {
    const ran: string[] = [];
    const run = async (cmd: string) => {
      ran.push(cmd);
      return { rc: 0, stdout: cmd.includes('orch-probe') ? stat : '', stderr: '' };
    };
    const ctx = { host: 'h', check: false, diff: false, run, probe: (c: string) => run(perlProbe(c)), warn: () => {} };
    await file.run(ctx as never, params);
    return ran.filter((c) => !c.includes('orch-probe'));
  };
  const absent = 'U|0022|root|root\nA\n';
  const dir = 'U|0022|root|root\nS|directory|755|root|root|4096|0|0\n';
  const perlForm = /^perl -e '[^']*' orch-write$/;
  for (const [params, stat] of [
    [{ path: '/d', state: 'directory', mode: '0750', owner: 'nobody', group: 'nogroup' }, absent],
    [{ path: '/d', state: 'directory', mode: 'u=rwx,g=rx,o=', recurse: true, owner: 'nobody' }, `${dir}R|/d\n`],
    [{ path: '/f', state: 'touch', mode: '0600' }, absent],
    [{ path: '/l', state: 'link', src: '/etc' }, absent],
    [{ path: '/h', state: 'hard', src: '/etc/hostname' }, absent],
    [{ path: '/d', state: 'absent' }, dir],
  ] as const) {
    assert.match((await sent(params, stat)).join('\n'), perlForm, JSON.stringify(params));
  }
  const times = await sent({ path: '/f', state: 'touch', modification_time: '202001010000.00' }, absent);
  assert.match(times.join('\n'), /^set -e\ntouch -- \/f\ntouch -m -d @\d+ -- \/f\ntouch -a -- \/f$/);
});
