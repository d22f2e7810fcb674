import { permissionFlags } from './mode.js';
import { ModuleFailure, type Module } from './types.js';
import type { Params } from './spec.js';
import { statRemote, type RemoteFile } from './remote-file.js';
import type { StatExtras } from './probe.js';

/** lsattr's letters, as Ansible names them (module_utils format_attributes). */
const ATTRIBUTE_NAMES: Record<string, string> = {
  a: 'append',
  A: 'noatime',
  c: 'compressed',
  C: 'nocow',
  d: 'nodump',
  D: 'dirsync',
  e: 'extents',
  E: 'encrypted',
  F: 'casefold',
  h: 'blocksize',
  i: 'immutable',
  I: 'indexed',
  j: 'journalled',
  m: 'dontcompress',
  N: 'inline',
  P: 'projinherit',
  s: 'zero',
  S: 'synchronous',
  t: 'notail',
  T: 'blockroot',
  u: 'undelete',
  V: 'verity',
  x: 'dax',
  X: 'compressedraw',
  Z: 'compresseddirty',
};

function extrasFor(p: Params): StatExtras {
  return { details: true, mime: p.get_mime !== false, attributes: p.get_attributes !== false };
}

function refuseUnsupported(p: Params): void {
  if (p.checksum_algorithm !== undefined && String(p.checksum_algorithm) !== 'sha1')
    throw new ModuleFailure(
      `stat: checksum_algorithm '${String(p.checksum_algorithm)}' is not implemented by orch (sha1 only)`,
    );
}

/** The keys Ansible's stat returns for an existing path. */
export function statResult(path: string, f: RemoteFile, p: Params): Record<string, unknown> {
  const d = f.details;
  const mode = parseInt(f.mode ?? '0', 8);
  const raw = d?.rawMode ?? 0;
  const kind = raw & 0o170000;
  const out: Record<string, unknown> = {
    exists: true,
    path,
    mode: f.mode,
    isdir: f.type === 'directory',
    ischr: kind === 0o020000,
    isblk: kind === 0o060000,
    isreg: f.type === 'file',
    isfifo: kind === 0o010000,
    islnk: f.type === 'link',
    issock: kind === 0o140000,
    uid: f.uid,
    gid: f.gid,
    size: f.size,
    inode: d?.inode,
    dev: d?.dev,
    nlink: d?.nlink,
    atime: d?.atime,
    mtime: d?.mtime,
    ctime: d?.ctime,
    ...permissionFlags(mode),
    blocks: d?.blocks,
    block_size: d?.blockSize,
    device_type: d?.rdev ?? 0,
    readable: d?.readable,
    writeable: d?.writeable,
    executable: d?.executable,
    pw_name: f.owner,
    gr_name: f.group,
  };
  if (f.type === 'link') {
    out.lnk_source = f.linkTarget?.startsWith('/')
      ? f.linkTarget
      : `${path.slice(0, path.lastIndexOf('/') + 1)}${f.linkTarget ?? ''}`;
    out.lnk_target = f.linkTarget;
  }
  // as Ansible: a checksum of the path itself when it is a regular file (a link's target is not summed)
  if (p.get_checksum !== false && f.sha1 && f.type === 'file') out.checksum = f.sha1;
  if (p.get_mime !== false) {
    const [mimetype = 'unknown', charset = 'unknown'] = (f.mime ?? 'unknown; charset=unknown')
      .trim()
      .split(/;\s*charset=/);
    out.mimetype = mimetype;
    out.charset = charset;
  }
  if (p.get_attributes !== false) {
    // what lsattr could not tell (a link, a file system without attributes) stays at Ansible's defaults
    Object.assign(out, { version: null, attributes: [], attr_flags: '' });
    const [version = '', flags = ''] = (f.attributes ?? '').trim().split(/\s+/);
    if (f.attributes) {
      const set = flags.replace(/-/g, '');
      Object.assign(out, { version, attr_flags: set, attributes: [...set].map((c) => ATTRIBUTE_NAMES[c] ?? c) });
    }
  }
  return out;
}

export const stat: Module = {
  name: 'stat',
  queryStartsProcesses: true,
  spec: {
    params: {
      path: { type: 'path', support: 'full', required: true, aliases: ['dest', 'name'] },
      get_checksum: { type: 'bool', support: 'full', default: true },
      checksum_algorithm: {
        type: 'str',
        support: 'partial',
        note: 'sha1 only',
        default: 'sha1',
        aliases: ['checksum', 'checksum_algo'],
      },
      follow: { type: 'bool', support: 'full', default: false },
      get_mime: { type: 'bool', support: 'full', default: true, aliases: ['mime', 'mime_type', 'mime-type'] },
      get_attributes: { type: 'bool', support: 'full', default: true, aliases: ['attr', 'attributes'] },
    },
  },
  query: (ctx, p) => statRemote(ctx, String(p.path), false, p.follow === true, extrasFor(p)),
  async run(ctx, p) {
    refuseUnsupported(p);
    const f = await statRemote(ctx, String(p.path), false, p.follow === true, extrasFor(p));
    if (!f.exists) return { changed: false, stat: { exists: false } };
    return { changed: false, stat: statResult(String(p.path), f, p) };
  },
};
