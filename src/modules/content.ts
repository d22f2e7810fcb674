import { createHash } from 'node:crypto';
import type { FileDiff, ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import {
  attributeFixes,
  fileWriteParams,
  sha1,
  statRemote,
  writeMode,
  writeRemote,
  type RemoteFile,
} from './remote-file.js';
import type { Params } from './spec.js';
import { commandFailed, ModuleFailure, type ModuleContext } from './types.js';
import { opsCommand, type FileOp } from './file-ops.js';

/** Shared by copy and template: put exact bytes at dest, atomically, only when the checksum differs. */

export interface ContentState {
  dest: string;
  file: RemoteFile;
  content: Buffer;
  /** copy's remote_src: the content is this file on the host (only its checksum and size are read) */
  remoteSrc?: { path: string; sha1: string; size: number };
}

export interface ContentChange {
  write: boolean;
  attrOps: FileOp[];
}

/**
 * Ansible's `follow`: with follow=yes a symlink at dest is resolved and the file it points to is
 * written (and diffed); with follow=no (the default) the link itself is replaced by a file, and what
 * it points to is never read: the "before" of a link is the link.
 */
async function followLink(
  ctx: ModuleContext,
  p: Params,
  dest: string,
  file: RemoteFile,
): Promise<{ dest: string; file: RemoteFile }> {
  if (file.type !== 'link') return { dest, file };
  const r = await ctx.run(sh`if [ -d ${dest} ]; then echo D; else echo F; fi; readlink -f -- ${dest} || true`);
  const [kind, real] = r.stdout.split('\n');
  if (r.rc !== 0) throw commandFailed(`resolving the link ${dest}`, r);
  // a link to a directory is a directory to copy into (Ansible's os.path.isdir follows links)
  if (kind === 'D') return { dest, file: { ...file, type: 'directory' } };
  if (p.follow !== true || !real) return { dest, file };
  return { dest: real, file: await statRemote(ctx, real, ctx.diff) };
}

export async function queryContent(
  ctx: ModuleContext,
  p: Params,
  content: Buffer,
  srcName?: string,
): Promise<ContentState> {
  let dest = String(p.dest);
  let file = await statRemote(ctx, dest, ctx.diff, false, {}, false);
  ({ dest, file } = await followLink(ctx, p, dest, file));
  if (file.type === 'directory' || dest.endsWith('/')) {
    if (!srcName) throw new ModuleFailure(`dest ${dest} is a directory; give a file name`);
    dest = `${dest.replace(/\/$/, '')}/${srcName.split('/').pop() ?? srcName}`;
    file = await statRemote(ctx, dest, ctx.diff, false, {}, false);
    ({ dest, file } = await followLink(ctx, p, dest, file));
  }
  return { dest, file, content };
}

export function planContent(
  p: Params,
  s: ContentState,
): { changes: ContentChange; result: Partial<ModuleResult> } | null {
  const want = s.remoteSrc?.sha1 ?? sha1(s.content);
  // force=no and dest there: Ansible leaves it alone altogether (content, mode and owner)
  if (p.force === false && s.file.exists) return null;
  // a link not followed is replaced by a file (as Ansible's copy does), whatever it points to
  const isLink = s.file.type === 'link';
  const write = !s.file.exists || isLink || s.file.sha1 !== want;
  if (s.file.exists && s.file.type !== 'file' && s.file.type !== 'link')
    throw new ModuleFailure(`dest ${s.dest} exists and is a ${s.file.type ?? 'special file'}`);
  const attrs = {
    mode: p.mode as string | undefined,
    owner: p.owner as string | undefined,
    group: p.group as string | undefined,
  };
  // never chmod/chown through a link the task does not follow (force: no leaves a link as it is)
  if (!write && isLink) return null;
  const fixes = write ? { cmds: [], diffs: [], ops: [] } : attributeFixes(s.dest, s.file, attrs);
  if (!write && fixes.cmds.length === 0) return null;
  const diff: FileDiff[] = [...fixes.diffs];
  if (write && !s.remoteSrc)
    diff.unshift({
      path: s.dest,
      before: isLink ? '' : (s.file.content?.toString('utf8') ?? ''),
      after: s.content.toString('utf8'),
    });
  if (write && isLink)
    diff.unshift({ path: s.dest, header: 'state', before: `link to ${s.file.linkTarget ?? '?'}`, after: 'file' });
  const size = s.remoteSrc?.size ?? s.content.length;
  // remote_src: the content is not read here (its md5sum is not known)
  const sums = s.remoteSrc ? { src: s.remoteSrc.path } : { md5sum: createHash('md5').update(s.content).digest('hex') };
  return {
    changes: { write, attrOps: fixes.ops },
    result: { diff, checksum: want, ...sums, dest: s.dest, state: 'file', size },
  };
}

export async function applyContent(
  ctx: ModuleContext,
  p: Params,
  c: ContentChange,
  s: ContentState,
): Promise<Partial<ModuleResult>> {
  if (c.write) {
    const { backupFile } = await writeRemote(ctx, s.dest, s.content, {
      mode: writeMode(p.mode as string | undefined, s.file),
      owner: p.owner as string | undefined,
      group: p.group as string | undefined,
      backup: p.backup === true,
      validate: p.validate as string | undefined,
      fromPath: s.remoteSrc?.path,
    });
    return backupFile ? { backup_file: backupFile } : {};
  }
  const r = await ctx.run(opsCommand(c.attrOps));
  if (r.rc !== 0) throw commandFailed(`setting attributes of ${s.dest}`, r);
  return {};
}

/** The result when nothing changes: the file's attributes as read (Ansible's add_path_info), no extra round trip. */
export function describeContent(s: ContentState): Partial<ModuleResult> {
  const f = s.file;
  const from = s.remoteSrc;
  const attrs =
    f.exists && f.type === 'file' ? { mode: f.mode, owner: f.owner, group: f.group, uid: f.uid, gid: f.gid } : {};
  return {
    ...attrs,
    dest: s.dest,
    path: s.dest,
    checksum: from?.sha1 ?? sha1(s.content),
    state: 'file',
    size: from?.size ?? s.content.length,
    ...(from ? { src: from.path } : {}),
  };
}

export const contentParams = {
  dest: { type: 'path', support: 'full', required: true },
  force: { type: 'bool', support: 'full', default: true },
  follow: { type: 'bool', support: 'full', default: false },
  ...fileWriteParams,
} as const;

/** mkdir -p of a path's parent directory (lineinfile/blockinfile create: yes, as Ansible's os.makedirs). */
export function ensureParentCmd(dest: string): string {
  return opsCommand([{ op: 'mkdirParent', path: dest }]);
}
