import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, linkSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePathInfo, pathInfoProbe, pathInfoScript } from '../../src/modules/path-info.js';

// Both forms run here with the controller's own perl and GNU stat, as they would on a Debian host.
const sh = (command: string) => execFileSync('sh', ['-c', command], { encoding: 'utf8' });

const dir = mkdtempSync(join(tmpdir(), 'orch-pathinfo-'));
const file = join(dir, "a file; $(touch x) 'q'");
writeFileSync(file, 'twelve bytes');
const hard = join(dir, 'hard');
linkSync(file, hard);
mkdirSync(join(dir, 'sub'), { mode: 0o2750 });
symlinkSync(file, join(dir, 'link'));
symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
const orphan = join(dir, 'orphan');
writeFileSync(orphan, '');
chownSync(orphan, 54321, 54321); // no user or group has these ids: both print the numbers

for (const [what, path] of [
  ['a file whose name has quotes, $() and a space', file],
  ['a hard-linked file', hard],
  ['a setgid directory', join(dir, 'sub')],
  ['a symlink (lstat mode and type, target owner)', join(dir, 'link')],
  ['a dangling symlink (nothing, as stat -L fails)', join(dir, 'dangling')],
  ['a missing path (nothing)', join(dir, 'missing')],
  ['a file owned by ids with no names', orphan],
]) {
  test(`path info: the probe reads ${what} as GNU stat does`, () => {
    const byStat = sh(pathInfoScript(path as string));
    const byProbe = sh(pathInfoProbe(path as string));
    assert.deepEqual(parsePathInfo(byProbe), parsePathInfo(byStat), `stat: ${byStat}\nprobe: ${byProbe}`);
  });
}

test('path info: the probe of an existing file reports uid, mode and size', () => {
  const info = parsePathInfo(sh(pathInfoProbe(file)));
  assert.equal(info?.size, 12);
  assert.equal(info?.state, 'hard');
  assert.equal(info?.uid, process.getuid?.());
});
