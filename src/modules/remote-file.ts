import { perlWritable, perlWriteCommand } from './file-write.js';
import { shellOf, type FileOp } from './file-ops.js';
import { createHash } from 'node:crypto';
import type { FileDiff } from '../core/result.js';
import { quote, sh } from '../transport/quote.js';
import { octalMode } from './mode.js';
import { statCode, statProbe, type Follow, type StatExtras } from './probe.js';
import { shlexSplit } from './shlex.js';
import { commandFailed, ModuleFailure, type ModuleContext } from './types.js';

/** What one round trip learns about a path on the host. */
export interface RemoteFile {
  exists: boolean;
  type?: 'file' | 'directory' | 'link' | 'other';
  mode?: string; // octal, 4 digits
  owner?: string;
  group?: string;
  uid?: number;
  gid?: number;
  size?: number;
  sha1?: string;
  linkTarget?: string;
  /** base64 content when asked for and the file is small */
  content?: Buffer;
  /** the umask commands run with on the host (symbolic modes without a user class depend on it) */
  umask?: number;
  /** stat's details (StatExtras.details) */
  details?: {
    atime: number;
    mtime: number;
    ctime: number;
    dev: number;
    inode: number;
    nlink: number;
    blocks: number;
    blockSize: number;
    rdev: number;
    rawMode: number;
    readable: boolean;
    writeable: boolean;
    executable: boolean;
  };
  /** `file --mime-type --mime-encoding`: "text/plain; charset=us-ascii" */
  mime?: string;
  /** `lsattr -vd`: "version flags path" */
  attributes?: string;
  /** the user and group commands run as: the owner of a file they create */
  creator?: { owner?: string; group?: string };
}

/**
 * Shell text printing the state of `path` (and optionally its content) in one line-oriented record, for scripts that
 * run it among other commands (a query of its own is statRemote's ctx.probe).
 */
export function statScript(path: string, withContent: boolean, follow: Follow = false): string {
  return statProbe(path, withContent, follow);
}

export function parseStat(out: string): RemoteFile {
  const f: RemoteFile = { exists: false };
  for (const line of out.split('\n')) {
    const [tag, ...rest] = line.split('|');
    const v = rest.join('|');
    if (tag === 'S') {
      const [type = '', mode = '', owner, group, size, uid, gid] = rest;
      f.exists = true;
      f.type = type.includes('symbolic')
        ? 'link'
        : type.includes('directory')
          ? 'directory'
          : type.includes('regular')
            ? 'file'
            : 'other';
      f.mode = mode.padStart(4, '0');
      f.owner = owner;
      f.group = group;
      f.size = Number(size);
      if (uid !== undefined) f.uid = Number(uid);
      if (gid !== undefined) f.gid = Number(gid);
    } else if (tag === 'U') {
      const [umask = '', user, group] = rest;
      f.umask = parseInt(umask, 8);
      f.creator = { owner: user, group };
    } else if (tag === 'L') f.linkTarget = v;
    else if (tag === 'H') f.sha1 = v;
    else if (tag === 'T') {
      const n = rest.map(Number);
      f.details = {
        atime: n[0] ?? 0,
        mtime: n[1] ?? 0,
        ctime: n[2] ?? 0,
        dev: n[3] ?? 0,
        inode: n[4] ?? 0,
        nlink: n[5] ?? 0,
        blocks: n[6] ?? 0,
        blockSize: n[7] ?? 0,
        rdev: n[8] ?? 0,
        rawMode: parseInt(rest[9] ?? '0', 8),
        readable: n[10] === 1,
        writeable: n[11] === 1,
        executable: n[12] === 1,
      };
    } else if (tag === 'M') f.mime = v;
    else if (tag === 'V') f.attributes = v;
    else if (tag === 'C') f.content = Buffer.from(v, 'base64');
    else if (tag === 'X') f.content = Buffer.from(v, 'hex');
  }
  return f;
}

/** readLinkTarget=false: for a symlink, only the link (no checksum or content of what it points to). */
export async function statRemote(
  ctx: ModuleContext,
  path: string,
  withContent = false,
  follow: Follow = false,
  extras: StatExtras = {},
  readLinkTarget = true,
): Promise<RemoteFile> {
  const r = await ctx.probe(statCode(path, withContent, follow, extras, readLinkTarget));
  if (r.rc !== 0) throw commandFailed(`reading ${path}`, r);
  return parseStat(r.stdout);
}

export function sha1(data: string | Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Parameters every file-writing module takes (copy, template, lineinfile, blockinfile...). */
export const fileWriteParams = {
  mode: { type: 'mode', support: 'full' },
  owner: { type: 'str', support: 'full' },
  group: { type: 'str', support: 'full' },
  backup: { type: 'bool', support: 'full', default: false },
  validate: { type: 'str', support: 'full' },
} as const;

export interface WriteOptions {
  mode?: string;
  owner?: string;
  group?: string;
  /** keep a timestamped copy of the old file (Ansible's backup: yes); its path is printed */
  backup?: boolean;
  /** run this validation command (with %s = temp file) before the rename */
  validate?: string;
  /** a symlink at the path is written through (its target gets the content), as Ansible's mount and cron */
  throughLinks?: boolean;
  /** the content is this file on the host (copy's remote_src), not the command's stdin */
  fromPath?: string;
}

/**
 * Atomic write: temp file in the same directory (private, 0600), content from stdin, fsync, mode/owner
 * set (kept from the old file unless given), optional validation, then rename. A failure at any step
 * leaves the original untouched and removes the temp file. One round trip.
 */
export function atomicWriteScript(path: string, opts: WriteOptions): string {
  const parts = [
    'set -e',
    sh`p=${path}`,
    ...(opts.throughLinks ? ['if [ -L "$p" ]; then p=$(readlink -f -- "$p"); fi'] : []),
    't=$(mktemp "$(dirname -- "$p")/.orch-tmp.XXXXXX")',
    `trap 'rm -f -- "$t"' EXIT`,
    opts.fromPath === undefined ? 'cat > "$t"' : sh`cat -- ${opts.fromPath} > "$t"`,
    'if [ -e "$p" ]; then chmod --reference="$p" -- "$t"; chown --reference="$p" -- "$t" 2>/dev/null || true; else chmod 0644 -- "$t"; fi',
  ];
  if (opts.mode) parts.push(sh`chmod ${opts.mode} -- "$t"`);
  if (opts.owner || opts.group)
    parts.push(sh`chown -- ${`${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}`} "$t"`);
  if (opts.validate) {
    parts.push(`vr=0; vo=$(exec ${validateCommand(opts.validate)}) || vr=$?`); // exec: the program, never a shell builtin
    parts.push(`if [ "$vr" -ne 0 ]; then printf '%s\\n${VALIDATE_MARK}%s\\n' "$vo" "$vr"; exit 3; fi`);
  }
  // Ansible names a backup FILE.PID.DATE~ (the pid of the process that wrote it)
  if (opts.backup)
    parts.push('if [ -e "$p" ]; then b="$p.$$.$(date +%Y-%m-%d@%H:%M:%S~)"; cp -p -- "$p" "$b"; echo "BACKUP|$b"; fi');
  parts.push('sync -- "$t" 2>/dev/null || sync', 'mv -f -- "$t" "$p"', 'trap - EXIT');
  return parts.join('\n');
}

const VALIDATE_MARK = 'ORCH-VALIDATE-RC|';

/**
 * A `validate` command as Ansible runs it: `%s` is the temp file, `%%` a percent sign, the result split as
 * Python's shlex does and run without a shell (a `|` or `>` in it is an argument, not a pipe). Each word is
 * quoted; the temp file is the script's "$t".
 */
export function validateCommand(validate: string): string {
  if (!validate.includes('%s')) throw new ModuleFailure(`validate must contain %s: ${validate}`);
  return shlexSplit(validate.replace(/%%(?!s)/g, '%'))
    .map((word) =>
      word
        .split(/(%%|%s)/)
        .filter((piece) => piece !== '')
        .map((piece) => (piece === '%s' ? '"$t"' : quote(piece === '%%' ? '%' : piece)))
        .join(''),
    )
    .join(' ');
}

/** The validation command refused the new content: the file was left as it was. */
export class ValidationFailed extends ModuleFailure {
  constructor(
    readonly exitStatus: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super('failed to validate', { exit_status: exitStatus, stdout, stderr });
  }
}

export async function writeRemote(
  ctx: ModuleContext,
  path: string,
  content: string | Buffer,
  opts: WriteOptions = {},
): Promise<{ backupFile?: string }> {
  const write = perlWritable(opts) ? perlWriteCommand(path, opts) : atomicWriteScript(path, opts);
  const r = await ctx.run(write, { stdin: content });
  const v = r.rc === 3 ? new RegExp(`\\n?${VALIDATE_MARK.replace('|', '\\|')}(\\d+)\\n$`).exec(r.stdout) : null;
  if (v) throw new ValidationFailed(Number(v[1]), r.stdout.slice(0, v.index), r.stderr);
  if (r.rc !== 0) throw commandFailed(`writing ${path}`, r);
  const b = /^BACKUP\|(.*)$/m.exec(r.stdout);
  return b?.[1] ? { backupFile: b[1] } : {};
}

/** The mode a file written over `current` (or a new one, 0644) ends with: symbolic modes resolved to octal. */
export function writeMode(mode: string | undefined, current: RemoteFile): string | undefined {
  if (mode === undefined) return undefined;
  return octalMode(mode, current.exists ? current.mode : '0644', false, current.umask);
}

/**
 * Mode/owner changes needed for an existing path, as chmod/chown commands. A symbolic mode is turned
 * into the octal mode it gives this path, compared, and applied as that number. With noDereference, a link
 * itself (file's follow: no): owner and group of the link; Linux has no mode on links.
 */
export function attributeFixes(
  path: string,
  current: RemoteFile,
  want: { mode?: string; owner?: string; group?: string },
  noDereference = false,
): { cmds: string[]; diffs: FileDiff[]; ops: FileOp[] } {
  const ops: FileOp[] = [];
  const diffs: FileDiff[] = [];
  const link = noDereference && current.type === 'link';
  if (link) want = { ...want, mode: undefined };
  if (want.mode) {
    const target = octalMode(want.mode, current.mode, current.type === 'directory', current.umask);
    if (current.mode !== target) {
      ops.push({ op: 'chmod', mode: target, path });
      diffs.push({ path, header: 'mode', before: current.mode ?? '', after: target });
    }
  }
  // an owner or group given as a number is compared with the id (as Ansible does)
  const same = (name: string | undefined, id: number | undefined, w: string) =>
    name === w || (/^\d+$/.test(w) && id === Number(w));
  if (want.owner && !same(current.owner, current.uid, want.owner)) {
    ops.push({ op: 'chown', owner: want.owner, path, noDereference: link });
    diffs.push({ path, header: 'owner', before: current.owner ?? '', after: want.owner });
  }
  if (want.group && !same(current.group, current.gid, want.group)) {
    ops.push({ op: 'chgrp', group: want.group, path, noDereference: link });
    diffs.push({ path, header: 'group', before: current.group ?? '', after: want.group });
  }
  return { cmds: ops.map(shellOf), diffs, ops };
}
