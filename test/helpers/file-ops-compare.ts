import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { perlFileCommand, shellOf, type FileOp } from '../../src/modules/file-ops.js';

// The file module's steps as Perl (a write frame in the runner, `perl -e` elsewhere) against the `set -e` shell
// script they stand in for, both run here (the controller is a Debian system too), as root and as nobody: same
// rc, same messages (the random part of a temporary name aside), same tree left behind.

const NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
export const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'orch-fileops-'));
  chmodSync(d, 0o777);
  return d;
};
export const touch = (p: string) => writeFileSync(p, 'x');

function run(script: string, asNobody: boolean) {
  const [cmd = 'sh', ...args] = [...(asNobody ? NOBODY : []), 'sh', '-c', script];
  return spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8' } });
}

/** Every entry below dir: type, mode, owner, link target; the temporary names' random part hidden. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const s = lstatSync(join(dir, rel));
    const kind = s.isSymbolicLink()
      ? `-> ${readlinkSync(join(dir, rel)).replaceAll(dir, 'DIR')}`
      : s.isDirectory()
        ? 'dir'
        : 'file';
    out.push(
      `${rel.replace(/\.orch-tmp\.\w{6}/, '.orch-tmp.R')} ${kind} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid}`,
    );
    if (s.isDirectory() && !s.isSymbolicLink()) {
      try {
        for (const n of readdirSync(join(dir, rel)).sort()) walk(join(rel, n));
      } catch {
        out.push(`${rel} unreadable`);
      }
    }
  };
  walk('.');
  return out;
}

export type Case = [what: string, setUp: (d: string) => void, ops: (d: string) => FileOp[], asNobody?: boolean];

/** A name with a quote, a newline, spaces, a dash after the newline and a non-ASCII letter. */
export const gnarly = "a b'c\n-d é";

export function compareCases(cases: Case[]): void {
  for (const [what, setUp, ops, asNobody = false] of cases) {
    test(`file ops in perl: ${what} ends and fails as the shell commands do`, () => {
      const [a, b] = [fresh(), fresh()];
      setUp(a);
      setUp(b);
      const perl = perlFileCommand(ops(b));
      assert.ok(perl, 'every step has a Perl form');
      const byShell = run(['set -e', ...ops(a).map(shellOf)].join('\n'), asNobody);
      const byPerl = run(perl, asNobody);
      const text = (s: string, d: string) => s.replaceAll(d, 'DIR').replace(/\.orch-tmp\.\w{6}/g, '.orch-tmp.R');
      assert.deepEqual(
        { rc: byPerl.status, stderr: text(byPerl.stderr, b), stdout: byPerl.stdout },
        { rc: byShell.status, stderr: text(byShell.stderr, a), stdout: byShell.stdout },
      );
      // the shell's one known fault: a link that cannot be renamed over the path leaves its temporary directory
      const shellLeft = tree(a).filter((e) => !(what === 'a symlink over a directory' && e.startsWith('.orch-tmp.')));
      assert.deepEqual(tree(b), shellLeft);
    });
  }
}
