import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import type { Module } from './types.js';

/**
 * Ansible's exit_json adds the file's attributes to any result with a `path` (or `dest`) that exists
 * (AnsibleModule.add_path_info): uid, gid, owner, group, mode, state (file/directory/link/hard), size.
 */

/** Shell lines printing PI1|uid|gid|user|group|type|nlink (following links) and PI2|mode|type|size (lstat). */
export function pathInfoScript(path: string): string {
  return `{ ${sh`p=${path}`}; ${PATH_INFO_OF_P} }`;
}

/** The same for the path in the shell variable $p. */
export const PATH_INFO_OF_P = `[ -e "$p" ] && { stat -L -c 'PI1|%u|%g|%U|%G|%F|%h' -- "$p"; stat -c 'PI2|%a|%F|%s' -- "$p"; }; true;`;

export function parsePathInfo(out: string): Partial<ModuleResult> | undefined {
  const follow = /^PI1\|(.*)$/m.exec(out)?.[1];
  const own = /^PI2\|(.*)$/m.exec(out)?.[1];
  if (follow === undefined || own === undefined) return undefined;
  const [uid = '', gid = '', user = '', group = '', ftype = '', nlink = ''] = follow.split('|');
  const [mode = '', ltype = '', size = ''] = own.split('|');
  const state =
    ltype === 'symbolic link' ? 'link' : ftype === 'directory' ? 'directory' : Number(nlink) > 1 ? 'hard' : 'file';
  return {
    uid: Number(uid),
    gid: Number(gid),
    owner: user === 'UNKNOWN' ? uid : user,
    group: group === 'UNKNOWN' ? gid : group,
    mode: `0${mode.padStart(3, '0')}`,
    state,
    size: Number(size),
  };
}

/**
 * Wrap a module whose results carry a path. An unchanged result that already has the info (read by
 * the module's query, so a converged run costs no extra round trip) keeps it; otherwise one stat.
 */
export function withPathInfo(m: Module): Module {
  return {
    ...m,
    async run(ctx, params) {
      const result = await m.run(ctx, params);
      const path =
        typeof result.path === 'string' ? result.path : typeof result.dest === 'string' ? result.dest : undefined;
      // nothing to add for a path that is gone (Ansible adds the attributes of an existing path only)
      if (
        path === undefined ||
        result.failed ||
        result.state === 'absent' ||
        (!result.changed && result.uid !== undefined)
      )
        return result;
      const r = await ctx.run(pathInfoScript(path));
      const info = r.rc === 0 ? parsePathInfo(r.stdout) : undefined;
      return info ? { ...result, ...info } : result;
    },
  };
}
