import { sh } from '../transport/quote.js';
import { perlWrite } from '../transport/write-command.js';
import { FILE_OP_PERL, NEEDS, type PerlOp } from './file-ops-perl.js';
import { GNU_QUOTE_PERL } from './gnu-quote.js';
import { perlString } from './probe.js';

/**
 * One step of the file module's change (and of the mode/owner fixes other modules share). Each step is the
 * shell command it always was (shellOf), and most have Perl code doing the same with the same messages
 * (file-ops-perl.ts): a change whose steps all have one runs as a write frame in the host's command runner,
 * starting no process (perlFileCommand).
 */
export type FileOp =
  | { op: 'rm'; path: string }
  | { op: 'mkdir'; path: string }
  /** mkdir -p of the path's directory (a file about to be created there) */
  | { op: 'mkdirParent'; path: string }
  | { op: 'touch'; path: string }
  /** touch -m / touch -a: a time set to now, or to a timestamp */
  | { op: 'time'; path: string; flag: '-m' | '-a'; epoch?: number }
  /** state link: a new link under a private temporary name, renamed over the path */
  | { op: 'symlink'; src: string; path: string }
  | { op: 'hard'; src: string; path: string }
  | { op: 'chmod'; mode: string; path: string }
  | { op: 'chown'; owner: string; path: string; noDereference: boolean }
  | { op: 'chgrp'; group: string; path: string; noDereference: boolean }
  /** chown -R OWNER[:GROUP] */
  | { op: 'chownR'; spec: string; path: string };

export function shellOf(o: FileOp): string {
  const h = (noDereference: boolean) => (noDereference ? ['-h'] : []);
  switch (o.op) {
    case 'rm':
      return sh`rm -rf -- ${o.path}`;
    case 'mkdir':
      return sh`mkdir -p -- ${o.path}`;
    case 'mkdirParent':
      return sh`mkdir -p -- "$(dirname -- ${o.path})"`;
    case 'touch':
      return sh`touch -- ${o.path}`;
    case 'time':
      return o.epoch === undefined
        ? sh`touch ${o.flag} -- ${o.path}`
        : sh`touch ${o.flag} -d ${`@${o.epoch}`} -- ${o.path}`;
    case 'symlink':
      // the temporary name is a fresh private directory (mktemp), not a name another user could have made
      return sh`d=$(mktemp -d "$(dirname -- ${o.path})/.orch-tmp.XXXXXX") && ln -s -- ${o.src} "$d/l" && mv -Tf -- "$d/l" ${o.path} && rmdir -- "$d"`;
    case 'hard':
      return sh`ln -f -- ${o.src} ${o.path}`;
    case 'chmod':
      return sh`chmod ${o.mode} -- ${o.path}`;
    case 'chown':
      return sh`chown ${[...h(o.noDereference), '--', o.owner, o.path]}`;
    case 'chgrp':
      return sh`chgrp ${[...h(o.noDereference), '--', o.group, o.path]}`;
    case 'chownR':
      return sh`chown -R -- ${o.spec} ${o.path}`;
  }
}

/**
 * A group as the Perl code resolves it exactly as chgrp (a name, else digits): not one the tools read as a number
 * by other rules (leading space or `+`, 10 digits or more: out of range or -1). A user also without `:` or `.`
 * (chown's USER:GROUP and USER.GROUP forms). Others are left to the tools themselves.
 */
export const plainGroup = (name: string) => !/^[\s+]/.test(name) && !/^\d{10,}$/.test(name);
export const plainUser = (name: string) => plainGroup(name) && !/[:.]/.test(name);

/**
 * Paths whose removal rm treats specially (`/`, a trailing `.`, `..` or slash: refused or followed) stay with
 * rm; so do times other than now for both, and ids in chown's other forms.
 */
function perlOp(o: FileOp, prev: FileOp | undefined, next: FileOp | undefined): PerlOp | 'skip' | undefined {
  const nowPair = (a: FileOp | undefined, b: FileOp | undefined) =>
    a?.op === 'time' &&
    b?.op === 'time' &&
    a.flag === '-m' &&
    b.flag === '-a' &&
    a.path === b.path &&
    a.epoch === undefined &&
    b.epoch === undefined;
  switch (o.op) {
    case 'rm':
      return /^\/*$|(^|\/)\.\.?$|\/$/.test(o.path) ? undefined : { sub: 'rm', args: [o.path] };
    case 'mkdir':
    case 'mkdirParent':
      return { sub: o.op, args: [o.path] };
    case 'touch':
      return { sub: 'touch', args: [o.path] };
    case 'time':
      // `touch -m` then `touch -a` (both now): one touch. One of them alone keeps the other time: touch itself.
      if (nowPair(o, next)) return { sub: 'touch', args: [o.path] };
      return nowPair(prev, o) ? 'skip' : undefined;
    case 'symlink':
      return { sub: 'symlink', args: [o.src, o.path] };
    case 'hard':
      return { sub: 'hard', args: [o.src, o.path] };
    case 'chmod':
      // an octal mode of fewer than 5 digits keeps a directory's setuid and setgid bits (GNU chmod)
      return /^[0-7]{1,5}$/.test(o.mode)
        ? { sub: 'chmod', args: [o.path], numbers: [parseInt(o.mode, 8), o.mode.length < 5 ? 1 : 0] }
        : undefined;
    case 'chown':
      return plainUser(o.owner)
        ? { sub: 'own', args: [o.owner, '', o.path], numbers: [o.noDereference ? 1 : 0] }
        : undefined;
    case 'chgrp':
      return plainGroup(o.group)
        ? { sub: 'own', args: ['', o.group, o.path], numbers: [o.noDereference ? 1 : 0] }
        : undefined;
    case 'chownR': {
      const [owner = '', group = ''] = o.spec.split(/:(.*)/s);
      return (owner === '' || plainUser(owner)) && (group === '' || plainGroup(group))
        ? { sub: 'chownR', args: [owner, group, o.path] }
        : undefined;
    }
  }
}

/**
 * The steps as one Perl program (`perl -e '…' orch-write`, a write frame in the runner), or undefined when a
 * step has no Perl form. Like the `set -e` script, it stops at the first step that fails, with the message the
 * tool prints and rc 1.
 */
export function perlFileCommand(ops: readonly FileOp[]): string | undefined {
  const calls: PerlOp[] = [];
  for (const [i, o] of ops.entries()) {
    const c = perlOp(o, ops[i - 1], ops[i + 1]);
    if (c === undefined) return undefined;
    if (c !== 'skip') calls.push(c);
  }
  if (calls.length === 0) return undefined;
  const subs = [...new Set(calls.flatMap((c) => [...(NEEDS[c.sub] ?? []), c.sub]))];
  const body = calls.map(
    (c) => `$op{${c.sub}}->(${[...c.args.map(perlString), ...(c.numbers ?? []).map((n) => String(n))].join(', ')});`,
  );
  return perlWrite(
    [
      // POSIX (~5 ms to load in a runner) only where lchown is needed: own with -h, chown -R
      'use strict; require Errno;',
      GNU_QUOTE_PERL,
      'my %op;',
      ...subs.map((s) => FILE_OP_PERL[s]),
      // outside the runner a die exits with errno's value: 1, as the tools
      `if (!eval { ${body.join(' ')} 1 }) { my $e = $@; $! = 1; die $e; }`,
    ].join('\n'),
  );
}

/** The command that runs the steps: Perl in the runner when every step has a Perl form, else the shell script. */
export function opsCommand(ops: readonly FileOp[]): string {
  return perlFileCommand(ops) ?? ['set -e', ...ops.map(shellOf)].join('\n');
}
