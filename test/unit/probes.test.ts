import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { moduleContext } from '../../src/executor/task-settings.js';
import { statCode } from '../../src/modules/probe.js';
import { validateParams } from '../../src/modules/spec.js';
import { stat } from '../../src/modules/stat.js';
import { perlProbe } from '../../src/transport/probe-command.js';
import { CASES, fingerprint, plain, runCase, type Row } from '../helpers/probe-rows.js';

// Probe table, as pyinfra tests its facts: each row is a case's input, what a real host printed for each probe or
// command the module sent (byte for byte), and the value the parser made of it. The rows were recorded once from a
// lab host by test/tools/record-probes.ts (its header says how to record them again) into test/fixtures/probes.json;
// here they are replayed through the same read path with no lab. A row whose probe text changed since it was
// recorded fails with "re-record": the host's answer to the new probe is not known.

const table = JSON.parse(readFileSync(new URL('../fixtures/probes.json', import.meta.url), 'utf8')) as {
  recorded: string;
  rows: Row[];
};
const rowName = (r: { kind: string; name: string }) => `${r.kind}: ${r.name}`;
const b64 = (s: string) => ({ base64: Buffer.from(s).toString('base64') });
const creator = { owner: 'root', group: 'root' };

/**
 * What the recorder's SETUP made, written by hand: each parsed value must hold these keys with these values (the
 * rest, times and inodes, is as the host printed it).
 */
const EXPECT: Record<string, unknown> = {
  'stat: a regular file with its content': {
    exists: true,
    type: 'file',
    mode: '0640',
    owner: 'root',
    group: 'adm',
    gid: 4,
    size: 8,
    umask: 0o22,
    creator,
    content: b64('a=1\nb=2\n'),
  },
  "stat: a regular file with stat's extras (times, ids, access, mime, attributes)": {
    type: 'file',
    mime: 'text/plain; charset=us-ascii',
    details: { nlink: 1, rawMode: 0o100640, readable: true, writeable: true, executable: false },
  },
  'stat: a directory': { type: 'directory', mode: '0755', details: { rawMode: 0o40755, executable: true } },
  'stat: a symbolic link, not followed': { type: 'link', mode: '0777', linkTarget: 'file', content: b64('a=1\nb=2\n') },
  'stat: a symbolic link, followed': { type: 'file', mode: '0640', group: 'adm' },
  'stat: a dangling link, followed or the link': { exists: true, type: 'link', linkTarget: 'missing' },
  'stat: a path that does not exist': { exists: false, creator },
  'stat: a name with a space and a quote': { type: 'file', size: 2, content: b64('q\n') },
  'stat: a fifo (its kind in the raw mode)': { type: 'other', details: { rawMode: 0o10644 } },
  'stat: a setuid file': { mode: '4755', details: { rawMode: 0o104755 } },
  'sysctl: a key set in its file, live value writable': {
    file: { exists: true },
    text: 'net.ipv4.ip_forward = 1\n',
    live: '0 ',
    writable: true,
  },
  'sysctl: a file that does not exist, a live value with a tab': { text: null, live: '32768\t60999 ' },
  'sysctl: a key the kernel does not have': { text: null, writable: false },
  'sysctl: a global key, read-only in a lab host': { writable: false },
  'user: root (password hash read as root)': { exists: true, uid: 0, home: '/root', group: 'root', groups: [] },
  'user: a user in secondary groups': {
    uid: 4322,
    comment: 'Probe User',
    home: '/home/probeuser',
    shell: '/bin/sh',
    group: 'probeuser',
    groups: ['adm', 'probegrp'],
    password: '$6$salt$hash',
  },
  'user: generate_ssh_key: the key file and its public half': {
    sshKey: { path: '/home/probeuser/.ssh/id_ed25519', exists: true, pub: 'ssh-ed25519 AAAAC3Nza probe@lab' },
  },
  'user: a user that does not exist': { exists: false, groups: [] },
  'group: a group with members': { exists: true, gid: 4321 },
  'group: a group that does not exist': { exists: false },
  'path info: a regular file': { uid: 0, gid: 4, owner: 'root', group: 'adm', mode: '0640', state: 'file', size: 8 },
  'path info: a directory': { mode: '0755', state: 'directory' },
  'path info: a symbolic link': { mode: '0777', state: 'link', group: 'adm' },
  'path info: a file with two links (hard)': { state: 'hard', size: 1 },
  'path info: a path that does not exist': null,
  'find: files of one directory (hidden ones left out)': { matched: 2, examined: 5, msg: 'All paths examined' },
  'find: recurse with a pattern and checksums': { matched: 2 },
  'find: any type, hidden, by age': { matched: 1 },
  'find: contains (a probe on the files found)': { matched: 2 },
  'find: a path that is not a directory is skipped': {
    matched: 2,
    msg: 'Not all paths examined, check warnings for details',
    warnings: [
      '/srv/orch-probes/nothing was skipped as it does not seem to be a valid directory or it cannot be accessed',
    ],
  },
};

/** find's files by path (their order is the directory's). */
const FOUND: Record<string, Record<string, Record<string, unknown>>> = {
  'find: files of one directory (hidden ones left out)': {
    '/srv/orch-probes/tree/a.conf': { isreg: true, size: 6, mode: '0644' },
    '/srv/orch-probes/tree/b.txt': { isreg: true, size: 5, mtime: 1577934245 },
  },
  'find: recurse with a pattern and checksums': {
    '/srv/orch-probes/tree/a.conf': { checksum: 'd046cd9b7ffb7661e449683313d41f6fc33e3130' },
    '/srv/orch-probes/tree/sub/c.conf': { size: 7 },
  },
  'find: any type, hidden, by age': { '/srv/orch-probes/tree/b.txt': { mtime: 1577934245 } },
  'find: contains (a probe on the files found)': {
    '/srv/orch-probes/tree/a.conf': { isreg: true },
    '/srv/orch-probes/tree/sub/c.conf': { isreg: true },
  },
  'find: a path that is not a directory is skipped': {
    '/srv/orch-probes/tree/a.conf': {},
    '/srv/orch-probes/tree/b.txt': {},
  },
};

/** `expected`'s keys, recursively, hold the same values in `actual` (arrays and scalars compared whole). */
function assertHolds(actual: unknown, expected: unknown, where: string): void {
  if (expected === null || typeof expected !== 'object' || Array.isArray(expected)) {
    assert.deepEqual(actual, expected, where);
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object', `${where}: not an object`);
  for (const [k, v] of Object.entries(expected))
    assertHolds((actual as Record<string, unknown>)[k], v, `${where}.${k}`);
}

test('probe table: every case has a recorded row, with the same input, and nothing else is recorded', () => {
  assert.match(table.recorded, /from lab host .* by test\/tools\/record-probes\.ts/);
  assert.deepEqual(
    table.rows.map((r) => [rowName(r), r.input]),
    CASES.map((c) => [rowName(c), c.input]),
  );
  assert.deepEqual(Object.keys(EXPECT).sort(), CASES.map(rowName).sort(), 'each row has its hand-written expectation');
});

for (const row of table.rows) {
  test(`probe table, ${rowName(row)}: the recorded output parses to the recorded value and to what the host was given`, async () => {
    const c = CASES.find((x) => rowName(x) === rowName(row));
    assert.ok(c);
    let n = 0;
    const answer = (via: 'probe' | 'run', text: string) => {
      const call = row.calls[n++];
      assert.ok(call, `${via} #${n} was not recorded: re-record (test/tools/record-probes.ts)`);
      assert.equal(via, call.via);
      assert.equal(fingerprint(text), call.sent, `${via} #${n} changed since it was recorded: re-record`);
      return Promise.resolve({ rc: call.rc, stdout: call.stdout, stderr: call.stderr });
    };
    const parsed = plain(
      await runCase(c, { run: (t) => answer('run', t), probe: (t) => answer('probe', t), warn: () => undefined }),
    );
    assert.equal(n, row.calls.length, 'every recorded call was asked');
    assert.deepEqual(parsed, row.parsed);
    assertHolds(parsed, EXPECT[rowName(row)], rowName(row));
    const found = FOUND[rowName(row)];
    if (found) {
      const files = (parsed as { files: Record<string, unknown>[] }).files;
      assert.deepEqual(files.map((f) => f.path).sort(), Object.keys(found).sort());
      for (const f of files) assertHolds(f, found[String(f.path)], String(f.path));
    }
  });
}

test("ctx.probe: the executor's module context sends a probe as the probe's shell form through run (recorded and batched as any query)", async () => {
  const sent: string[] = [];
  const rs = { opts: { check: false, diff: false } };
  const task = { module: 'stat', pos: { file: 'p.yml', line: 1, col: 1 } };
  const run = (command: string) => (
    sent.push(command),
    Promise.resolve({ rc: 0, stdout: 'U|0022|root|root\nA\n', stderr: '' })
  );
  const ctx = moduleContext(rs as never, 'h', task as never, { lookupPaths: [] } as never, run);
  const params = validateParams('stat', stat.spec, { path: '/etc/x', get_mime: false, get_attributes: false });
  await stat.query?.(ctx, params);
  assert.deepEqual(sent, [
    perlProbe(statCode('/etc/x', false, false, { details: true, mime: false, attributes: false })),
  ]);
  assert.match(sent[0] ?? '', /^perl -e '[^']*' orch-probe$/);
});
