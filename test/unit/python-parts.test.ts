import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { pythonScript } from '../../src/modules/python.js';

// The modules' Python parts kept as files (src/modules/*.py, run on the hosts by runPython): what is sent, and that
// python3 compiles it. No lab needed.

const files = readdirSync(new URL('../../src/modules/', import.meta.url)).filter((f) => f.endsWith('.py'));

test('module Python parts: git.py and unarchive.py exist as files next to the modules', () => {
  assert.ok(files.includes('git.py') && files.includes('unarchive.py'), files.join(' '));
});

for (const file of files) {
  test(`module Python part ${file}: the header is dropped, the program starts at its imports, and python3 compiles it`, () => {
    const src = pythonScript(file);
    assert.match(src, /^import /);
    assert.match(src, /json\.load\(sys\.stdin\)/);
    const check = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], {
      input: src,
      encoding: 'utf8',
    });
    assert.equal(check.status, 0, check.stderr);
  });
}
