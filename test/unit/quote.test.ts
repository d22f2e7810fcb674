import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { quote, sh, shellJoin } from '../../src/transport/quote.js';
import { wrapCommand } from '../../src/transport/wrap.js';

const tricky = [
  'plain',
  '',
  'with space',
  "it's",
  '$(touch /tmp/pwned)',
  '`id`',
  'a"b',
  'back\\slash',
  'new\nline',
  '*',
  '-n',
  'ünïcödé',
  "'; rm -rf / #",
];

test('quote: the shell reads every value back verbatim', () => {
  for (const v of tricky) {
    const r = spawnSync('/bin/sh', ['-c', `printf '%s' ${quote(v)}`], { encoding: 'utf8' });
    assert.equal(r.stdout, v, `value ${JSON.stringify(v)}`);
  }
});

test('sh template quotes interpolations and joins arrays as words', () => {
  const cmd = sh`printf '%s|' ${tricky}`;
  const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8' });
  assert.equal(r.stdout, tricky.map((t) => `${t}|`).join(''));
  assert.equal(shellJoin(['a b', 'c']), "'a b' c");
});

test('wrapCommand: sudo, timeout, env and cwd compose into one safe string', () => {
  const { command, ids } = wrapCommand('echo "$X" && pwd', { env: { X: "a'b" }, cwd: '/tmp', timeoutMs: 3000 });
  assert.equal(ids, undefined);
  const r = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
  assert.equal(r.stdout, "a'b\n/tmp\n");
  const b = wrapCommand('id', { become: { user: 'root', password: 'pw' } });
  assert.ok(
    b.ids &&
      b.command.startsWith(
        `sudo -H -S -p '${b.ids.prompt}' -u root -- /bin/sh -c 'echo ${b.ids.marker} >&2; exec "$@"' orch-become `,
      ),
    b.command,
  );
  assert.doesNotMatch(b.command, /pw/, 'the password is never part of the command');
  assert.match(wrapCommand('id', { become: { user: 'postgres' } }).command, /^sudo -H -n -u postgres -- /);
  const su = wrapCommand('id', { become: { user: 'app', method: 'su', password: 'pw' } });
  assert.match(su.command, /^su -s \/bin\/sh -c '.*' app$/);
});
