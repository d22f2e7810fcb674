import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { batchScript, groupByBecome, parseBatch, PrefetchCache } from '../../src/executor/prefetch.js';

test('prefetch: one script runs every query and returns each rc/stdout/stderr byte for byte', () => {
  const queries = [
    { command: 'printf "a\\nb"', opts: {} },
    { command: 'echo err >&2; exit 3', opts: {} },
    { command: 'printf "ünï \\0 bin"', opts: {} },
    { command: 'pwd', opts: { cwd: '/tmp' } },
    { command: 'echo "$X"', opts: { env: { X: "it's" } } },
    { command: 'cat', opts: {} }, // stdin is closed: never waits
  ];
  const r = spawnSync('sh', ['-c', batchScript(queries)], { encoding: 'utf8', timeout: 10_000 });
  const a = parseBatch(r.stdout);
  assert.deepEqual(a.get(0), { rc: 0, stdout: 'a\nb', stderr: '' });
  assert.deepEqual(a.get(1), { rc: 3, stdout: '', stderr: 'err\n' });
  assert.equal(a.get(2)?.stdout, 'ünï \0 bin');
  assert.equal(a.get(3)?.stdout, '/tmp\n');
  assert.equal(a.get(4)?.stdout, "it's\n");
  assert.deepEqual(a.get(5), { rc: 0, stdout: '', stderr: '' });
});

test('prefetch cache: a result is used once, for the same command and options only; invalidate drops all', () => {
  const c = new PrefetchCache();
  const q = { command: 'stat x', opts: { become: { user: 'root' }, env: {} } };
  c.store(q, { rc: 0, stdout: 'one', stderr: '' });
  c.store(q, { rc: 0, stdout: 'two', stderr: '' });
  assert.equal(c.take('stat x', { become: { user: 'postgres' }, env: {} }), undefined, 'another sudo user');
  assert.equal(c.take('stat x', { become: { user: 'root' }, env: { A: '1' } }), undefined, 'another environment');
  assert.equal(c.take('stat x', { become: { user: 'root' }, env: {} })?.stdout, 'one');
  c.cover([1, 2]);
  assert.ok(c.covers(2));
  c.invalidate();
  assert.equal(c.take('stat x', { become: { user: 'root' }, env: {} }), undefined, 'stale after invalidate');
  assert.ok(!c.covers(2));
  assert.equal(c.enabled, false, 'results thrown away unused: fetching ahead stops');
  assert.equal(c.take('cat', { stdin: 'data' }), undefined, 'commands with input are never kept');
});

test('prefetch: queries are grouped by sudo user', () => {
  const g = groupByBecome([
    { command: 'a', opts: { become: { user: 'root' } } },
    { command: 'b', opts: {} },
    { command: 'c', opts: { become: { user: 'root' } } },
  ]);
  assert.deepEqual(g.map((x) => x.queries.map((q) => q.command)), [['a', 'c'], ['b']]);
});
