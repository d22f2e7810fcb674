import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, posix, relative, resolve, sep } from 'node:path';
import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { expandRemoteUser } from './expand-user.js';
import { statRemote, sha1 } from './remote-file.js';
import type { Params } from './spec.js';
import { ModuleFailure, type Module, type ModuleContext } from './types.js';

/**
 * ansible.builtin.fetch: a file of the host, copied to the controller, as Ansible's fetch action does
 * (dest/<inventory_hostname>/<src path>, or exactly dest with flat). Unlike Ansible, nothing is written
 * through a symlink: below dest, a directory that is a link (dest/host/etc → /etc) is refused, and the
 * file itself is written to a temp file and renamed over whatever is at its name; a `..` in src or a host
 * name that would leave dest is refused.
 */

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

function localSha1(path: string): string | null {
  try {
    return statSync(path).isFile() ? sha1(readFileSync(path)) : null;
  } catch {
    return null;
  }
}

/** Where the file goes on the controller, and from which directory down links are refused. */
export function fetchDest(p: Params, host: string, playbookDir: string): { dest: string; root: string } {
  const dest = String(p.dest);
  const src = String(p.src);
  if (p.flat === true) {
    if (!dest.endsWith(sep) && isDirectory(resolve(playbookDir, dest)))
      throw new ModuleFailure(
        'dest is an existing directory, use a trailing slash if you want to fetch src into that directory',
      );
    const file = resolve(playbookDir, dest.endsWith(sep) ? join(dest, posix.basename(src)) : dest);
    return { dest: file, root: dirname(file) };
  }
  const root = resolve(playbookDir, dest);
  if (host === '' || host === '.' || host === '..' || host.includes('/'))
    throw new ModuleFailure(
      `Detected directory traversal: host name '${host}' cannot name a directory under '${dest}'`,
    );
  // an absolute src is the host's own path first (/srv/../../etc/x is /etc/x there): Ansible normalises only
  // the joined path, so its `..` climbs out of dest on the controller
  const file = normalize(`${root}/${host}/${src.startsWith('/') ? posix.normalize(src) : src}`);
  const inside = relative(join(root, host), file);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside))
    throw new ModuleFailure(
      `Detected directory traversal, expected to be contained in '${join(root, host)}' but got '${file}'`,
    );
  return { dest: file, root };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** mkdir -p from root down to dir, refusing any existing component that is a symlink (or not a directory). */
function makeDirsNoLinks(root: string, dir: string): void {
  mkdirSync(root, { recursive: true });
  let at = root;
  for (const part of relative(root, dir)
    .split(sep)
    .filter((s) => s)) {
    at = join(at, part);
    let st;
    try {
      st = lstatSync(at);
    } catch {
      mkdirSync(at);
      continue;
    }
    if (st.isSymbolicLink())
      throw new ModuleFailure(`refusing to fetch through the symlink ${at} (below dest ${root})`);
    if (!st.isDirectory()) throw new ModuleFailure(`${at} exists and is not a directory`);
  }
}

/** Write by temp file + rename in the same directory: a link at `path` is replaced, never written through. */
function writeAtomic(path: string, data: Buffer): void {
  const tmp = join(dirname(path), `.${basename(path)}.orch-fetch.${process.pid}.${Date.now()}`);
  try {
    writeFileSync(tmp, data, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      /* not created */
    }
    throw new ModuleFailure(`Failed to fetch the file: ${(err as Error).message}`);
  }
}

async function readRemote(ctx: ModuleContext, src: string): Promise<Buffer> {
  const r = await ctx.run(sh`base64 -w0 < ${src}`);
  if (r.rc !== 0) throw new ModuleFailure(`file is not readable: ${src}`, { rc: r.rc });
  return Buffer.from(r.stdout.trim(), 'base64');
}

export const fetch: Module = {
  name: 'fetch',
  spec: {
    params: {
      src: { type: 'str', support: 'full', required: true },
      dest: { type: 'str', support: 'full', required: true },
      flat: { type: 'bool', support: 'full', default: false },
      fail_on_missing: { type: 'bool', support: 'full', default: true },
      validate_checksum: { type: 'bool', support: 'full', default: true },
    },
  },
  async run(ctx, p): Promise<ModuleResult> {
    if (ctx.check) return { changed: false, skipped: true, msg: 'check mode not (yet) supported for this module' };
    const src = await expandRemoteUser(ctx, String(p.src));
    // Ansible's failing result has no `file` key; the ignored one has
    const missing = (msg: string): ModuleResult =>
      p.fail_on_missing === false ? { changed: false, file: src, msg } : { changed: false, failed: true, msg };
    const remote = await statRemote(ctx, src, false, true);
    if (!remote.exists) return missing('the remote file does not exist, not transferring, ignored');
    if (remote.type === 'directory') return missing('remote file is a directory, fetch cannot work on directories');
    if (remote.sha1 === undefined) return missing(`file is not readable: ${src}`);
    const playbookDir = String(ctx.vars.get('playbook_dir') ?? process.cwd());
    const { dest, root } = fetchDest({ ...p, src }, ctx.host, playbookDir);
    const local = localSha1(dest);
    if (local === remote.sha1) {
      const data = readFileSync(dest);
      return { changed: false, md5sum: md5(data), file: src, dest, checksum: local };
    }
    const data = await readRemote(ctx, src);
    const got = sha1(data);
    makeDirsNoLinks(root, dirname(dest));
    writeAtomic(dest, data);
    if (p.validate_checksum !== false && got !== remote.sha1) {
      return {
        changed: false,
        failed: true,
        md5sum: md5(data),
        msg: 'checksum mismatch',
        file: src,
        dest,
        remote_md5sum: null,
        checksum: got,
        remote_checksum: remote.sha1,
      };
    }
    return { changed: true, md5sum: md5(data), dest, remote_md5sum: null, checksum: got, remote_checksum: remote.sha1 };
  },
};
