import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, lchownSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { recurseProbe } from '../../src/modules/file.js';
import { statCode } from '../../src/modules/probe.js';
import { sh } from '../../src/transport/quote.js';

// file with recurse and an owner or group asks whether anything below the directory has another one. That was
// `find PATH \( ! -user U -o ! -group G \) -print -quit` in a shell script; it is now part of the query's probe.
// Both answer the same here.

function tree(): string {
  const d = mkdtempSync(join(tmpdir(), 'orch-recurse-'));
  mkdirSync(join(d, 't', 's'), { recursive: true });
  writeFileSync(join(d, 't', 's', "f'\n"), '');
  mkdirSync(join(d, 'outside'));
  writeFileSync(join(d, 'outside', 'o'), '');
  symlinkSync(join(d, 'outside'), join(d, 't', 'l'));
  symlinkSync(join(d, 't'), join(d, 'top-link'));
  return d;
}

/** The whole tree is nobody:nogroup except `odd` (made root's), the link target always root's. */
function owned(d: string, odd?: string) {
  for (const p of ['t', 't/s', "t/s/f'\n", 't/l', 'top-link']) lchownSync(join(d, p), 65534, 65534);
  if (odd) lchownSync(join(d, odd), 0, 0);
  chownSync(join(d, 'outside'), 0, 0);
}

const byFind = (path: string, owner?: string, group?: string) => {
  const tests = [owner ? sh`! -user ${owner}` : '', group ? sh`! -group ${group}` : ''].filter((x) => x);
  const r = spawnSync('sh', ['-c', `find ${sh`${path}`} \\( ${tests.join(' -o ')} \\) -print -quit 2>/dev/null`]);
  return r.stdout.toString() !== '';
};
const byProbe = (path: string, owner?: string, group?: string) => {
  const r = spawnSync('perl', ['-e', `${statCode(path, false, 'or-link')}\n${recurseProbe(owner, group)}`]);
  assert.equal(r.status, 0, r.stderr.toString());
  return /^R\|.+$/m.test(r.stdout.toString());
};

const cases: [string, string | undefined, string, string | undefined, string | undefined][] = [
  ['all alike', undefined, 't', 'nobody', 'nogroup'],
  ['a file deep inside differs', "t/s/f'\n", 't', 'nobody', undefined],
  ['a link inside differs (the link itself counts)', 't/l', 't', undefined, 'nogroup'],
  ["a link's target differs (not looked at)", undefined, 't', 'nobody', 'nogroup'],
  ['the directory itself differs, by number', 't', 't', '65534', '65534'],
  ['an unknown user (find refuses: nothing found)', 't/s', 't', 'no-such-user', undefined],
  ['a link to the directory (the link only)', 't/s', 'top-link', 'nobody', 'nogroup'],
];

for (const [what, odd, path, owner, group] of cases) {
  test(`file recurse probe: ${what}: the same answer as find`, () => {
    const d = tree();
    owned(d, odd);
    const expected = byFind(join(d, path), owner, group);
    assert.equal(byProbe(join(d, path), owner, group), expected);
  });
}

test('file recurse probe: a differing entry is found (the comparison is not vacuous)', () => {
  const d = tree();
  owned(d, 't/s');
  assert.equal(byProbe(join(d, 't'), 'nobody', 'nogroup'), true);
  assert.equal(byProbe(join(d, 't', 's', "f'\n"), 'nobody', undefined), false, 'not a directory: no R line');
});
