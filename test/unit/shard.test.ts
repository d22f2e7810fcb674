import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatMerged, mergeShards } from '../../src/cli/commands/history-merge.js';
import type { RunSummary } from '../../src/cli/commands/history.js';
import { UsageError } from '../../src/core/errors.js';
import { acquireRunLock } from '../../src/executor/lock.js';
import { inShard, parseShard, shardOf } from '../../src/inventory/shard.js';

const hostName = fc.stringMatching(/^[a-z][a-z0-9.-]{0,30}$/);
const hostList = fc.uniqueArray(hostName, { minLength: 0, maxLength: 400 });

test('shard: for N = 1..8, the N shards cover every host exactly once (many host lists, 0 to 400 hosts)', () => {
  fc.assert(
    fc.property(hostList, fc.integer({ min: 1, max: 8 }), (hosts, n) => {
      const seen = new Map<string, number>();
      for (let i = 1; i <= n; i++)
        for (const h of inShard(hosts, { index: i, count: n })) seen.set(h, (seen.get(h) ?? 0) + 1);
      assert.equal(seen.size, hosts.length, 'every host is in a shard');
      assert.ok(
        [...seen.values()].every((c) => c === 1),
        'no host is in two shards',
      );
    }),
    { numRuns: 300 },
  );
});

test('shard: a host stays in its shard when hosts are added or removed (the shard depends on its name and N only)', () => {
  fc.assert(
    fc.property(hostList, hostList, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), (a, b, n, i0) => {
      const i = ((i0 - 1) % n) + 1;
      const before = new Set(inShard(a, { index: i, count: n }));
      const after = new Set(inShard([...new Set([...b, ...a])], { index: i, count: n }));
      for (const h of a) assert.equal(before.has(h), after.has(h), h);
    }),
    { numRuns: 200 },
  );
});

test('shard: 960 lab-style hosts spread evenly enough over 8 shards (each within 30% of an eighth)', () => {
  const hosts = Array.from({ length: 960 }, (_, i) => `orch${i + 1}`);
  for (let i = 1; i <= 8; i++) {
    const n = inShard(hosts, { index: i, count: 8 }).length;
    assert.ok(n > 120 * 0.7 && n < 120 * 1.3, `shard ${i}: ${n} hosts`);
  }
  assert.equal(shardOf('web1', 1), 1);
});

test('shard: I/N parsed, 1 ≤ I ≤ N; anything else is a usage error', () => {
  assert.deepEqual(parseShard('3/8'), { index: 3, count: 8 });
  assert.deepEqual(parseShard(' 1 / 1 '), { index: 1, count: 1 });
  for (const bad of ['0/8', '9/8', '1/0', '3', 'a/b', '-1/2', '1/2/3'])
    assert.throws(() => parseShard(bad), UsageError, bad);
});

test('shard lock: siblings of one run go side by side; the whole inventory or a shard of another count is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-shard-lock-'));
  const one = await acquireRunLock(dir, 'prod', 'apply prod', { index: 1, count: 2 });
  const two = await acquireRunLock(dir, 'prod', 'apply prod', { index: 2, count: 2 });
  await assert.rejects(
    acquireRunLock(dir, 'prod', 'apply prod', { index: 1, count: 2 }),
    /shard 1\/2\) is locked by another run/,
  );
  await assert.rejects(acquireRunLock(dir, 'prod', 'apply prod'), /inventory 'prod' \(shard 1\/2\) is locked/);
  await assert.rejects(acquireRunLock(dir, 'prod', 'apply prod', { index: 1, count: 3 }), /shard .\/2\) is locked/);
  const other = await acquireRunLock(dir, 'staging', 'apply staging');
  await Promise.all([one(), two(), other()]);
  const whole = await acquireRunLock(dir, 'prod', 'apply prod');
  await assert.rejects(
    acquireRunLock(dir, 'prod', 'apply prod', { index: 2, count: 2 }),
    /inventory 'prod' is locked by another run/,
  );
  await whole();
});

const summary = (
  file: string,
  shard: RunSummary['shard'],
  hosts: Record<string, string>,
  extra: Partial<RunSummary> = {},
): RunSummary => ({
  file,
  time: `2026-01-01T00:00:0${file}Z`,
  user: 'ci',
  command: 'apply prod',
  inventory: '/x/prod',
  result: `ok (${Object.keys(hosts).length} hosts)`,
  hosts,
  exitCode: 0,
  shard,
  ...extra,
});

test('history --merge: the shards of one run are one run with every host; a missing shard and a failed one are said', () => {
  const merged = mergeShards([
    summary('1', { index: 1, count: 3 }, { a: 'ok', c: 'changed' }, { runId: 'r1' }),
    summary('2', { index: 2, count: 3 }, { b: 'failed' }, { runId: 'r1', exitCode: 2, result: 'exit 2' }),
    summary('3', { index: 1, count: 2 }, { a: 'ok' }, { runId: 'r2' }),
    summary('4', undefined, { z: 'ok' }),
  ]);
  assert.equal(merged.length, 3);
  const [r1, r2, single] = merged as [(typeof merged)[0], (typeof merged)[0], (typeof merged)[0]];
  assert.deepEqual(Object.keys(r1.hosts).sort(), ['a', 'b', 'c']);
  assert.deepEqual(r1.shards, [1, 2]);
  assert.match(r1.result, /shard 2\/3: exit 2; no log of shard 3/);
  assert.match(r2.result, /no log of shard 2/);
  assert.deepEqual(Object.keys(single.hosts), ['z']);
  assert.match(formatMerged([r1]), /2\/3 shards, run r1\n {4}a: ok \(shard 1\/3\)\n {4}b: failed \(shard 2\/3\)/);
});
