import { createHash } from 'node:crypto';
import { createPatch } from 'diff';
import type { FileDiff } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { statProbe } from './probe.js';
import { commandFailed, type ModuleContext } from './types.js';

/** What one round trip learns about a path on the host. */
export interface RemoteFile {
  exists: boolean;
  type?: 'file' | 'directory' | 'link' | 'other';
  mode?: string; // octal, 4 digits
  owner?: string;
  group?: string;
  size?: number;
  sha1?: string;
  linkTarget?: string;
  /** base64 content when asked for and the file is small */
  content?: Buffer;
}

/** A query printing the state of `path` (and optionally its content) in one line-oriented record (a probe). */
export function statScript(path: string, withContent: boolean, readLinkTarget = true): string {
  return statProbe(path, withContent, readLinkTarget);
}

export function parseStat(out: string): RemoteFile {
  const f: RemoteFile = { exists: false };
  for (const line of out.split('\n')) {
    const [tag, ...rest] = line.split('|');
    const v = rest.join('|');
    if (tag === 'S') {
      const [type = '', mode = '', owner, group, size] = rest;
      f.exists = true;
      f.type = type.includes('symbolic') ? 'link' : type.includes('directory') ? 'directory' : type.includes('regular') ? 'file' : 'other';
      f.mode = mode.padStart(4, '0');
      f.owner = owner;
      f.group = group;
      f.size = Number(size);
    } else if (tag === 'L') f.linkTarget = v;
    else if (tag === 'H') f.sha1 = v;
    else if (tag === 'C') f.content = Buffer.from(v, 'base64');
    else if (tag === 'X') f.content = Buffer.from(v, 'hex');
  }
  return f;
}

/** readLinkTarget=false: for a symlink, only the link (no checksum or content of what it points to). */
export async function statRemote(ctx: ModuleContext, path: string, withContent = false, readLinkTarget = true): Promise<RemoteFile> {
  const r = await ctx.run(statScript(path, withContent, readLinkTarget));
  if (r.rc !== 0) throw commandFailed(`reading ${path}`, r);
  return parseStat(r.stdout);
}

export function sha1(data: string | Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Parameters every file-writing module takes (copy, template, lineinfile, blockinfile...). */
export const fileWriteParams = {
  mode: { type: 'mode' },
  owner: { type: 'str' },
  group: { type: 'str' },
  backup: { type: 'bool', default: false },
  validate: { type: 'str' },
} as const;

export interface WriteOptions {
  mode?: string;
  owner?: string;
  group?: string;
  /** keep a timestamped copy of the old file (Ansible's backup: yes); its path is printed */
  backup?: boolean;
  /** run this validation command (with %s = temp file) before the rename */
  validate?: string;
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
    't=$(mktemp "$(dirname -- "$p")/.orch-tmp.XXXXXX")',
    `trap 'rm -f -- "$t"' EXIT`,
    'cat > "$t"',
    'if [ -e "$p" ]; then chmod --reference="$p" -- "$t"; chown --reference="$p" -- "$t" 2>/dev/null || true; else chmod 0644 -- "$t"; fi',
  ];
  if (opts.mode) parts.push(sh`chmod ${opts.mode} -- "$t"`);
  if (opts.owner || opts.group) parts.push(sh`chown ${`${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}`} -- "$t"`);
  if (opts.validate) {
    const cmd = opts.validate.split('%s').map((s) => s).join('"$t"');
    parts.push(`( ${cmd} ) >&2 || { echo "validation failed: ${opts.validate.replace(/["$`\\]/g, '')}" >&2; exit 3; }`);
  }
  if (opts.backup) parts.push('if [ -e "$p" ]; then b="$p.$(date +%Y-%m-%d@%H:%M:%S~)"; cp -p -- "$p" "$b"; echo "BACKUP|$b"; fi');
  parts.push('sync -- "$t" 2>/dev/null || sync', 'mv -f -- "$t" "$p"', 'trap - EXIT');
  return parts.join('\n');
}

export async function writeRemote(ctx: ModuleContext, path: string, content: string | Buffer, opts: WriteOptions = {}): Promise<{ backupFile?: string }> {
  const r = await ctx.run(atomicWriteScript(path, opts), { stdin: content });
  if (r.rc !== 0) throw commandFailed(`writing ${path}`, r);
  const b = /^BACKUP\|(.*)$/m.exec(r.stdout);
  return b?.[1] ? { backupFile: b[1] } : {};
}

export function textDiff(path: string, before: string, after: string): FileDiff {
  return { path, before, after };
}

/** Unified diff text for display (the UI colours it). */
export function unifiedDiff(d: FileDiff): string {
  if (d.header) return `--- ${d.path} (${d.header})\n-${d.before}\n+${d.after}\n`;
  return createPatch(d.path, d.before, d.after, 'before', 'after').split('\n').slice(1).join('\n');
}

/** Mode/owner changes needed for an existing path, as chmod/chown commands. */
export function attributeFixes(path: string, current: RemoteFile, want: { mode?: string; owner?: string; group?: string }): { cmds: string[]; diffs: FileDiff[] } {
  const cmds: string[] = [];
  const diffs: FileDiff[] = [];
  if (want.mode && /^[0-7]+$/.test(want.mode) && current.mode !== want.mode.padStart(4, '0')) {
    cmds.push(sh`chmod ${want.mode} -- ${path}`);
    diffs.push({ path, header: 'mode', before: current.mode ?? '', after: want.mode.padStart(4, '0') });
  } else if (want.mode && !/^[0-7]+$/.test(want.mode)) {
    cmds.push(sh`m0=$(stat -c %a -- ${path}); chmod ${want.mode} -- ${path}; [ "$m0" = "$(stat -c %a -- ${path})" ] || echo MODE_CHANGED`);
  }
  if (want.owner && current.owner !== want.owner) {
    cmds.push(sh`chown ${want.owner} -- ${path}`);
    diffs.push({ path, header: 'owner', before: current.owner ?? '', after: want.owner });
  }
  if (want.group && current.group !== want.group) {
    cmds.push(sh`chgrp ${want.group} -- ${path}`);
    diffs.push({ path, header: 'group', before: current.group ?? '', after: want.group });
  }
  return { cmds, diffs };
}
