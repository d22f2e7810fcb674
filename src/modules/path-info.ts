import { sh } from '../transport/quote.js';
import type { Module } from './types.js';

/**
 * Ansible's exit_json adds the file's attributes to any result with a `path` (or `dest`) that exists
 * (AnsibleModule.add_path_info): uid, gid, owner, group, mode, state (file/directory/link/hard), size.
 * Wrap a module whose results carry such a path.
 */
export function withPathInfo(m: Module): Module {
  return {
    ...m,
    async run(ctx, params) {
      const result = await m.run(ctx, params);
      const path = typeof result.path === 'string' ? result.path : typeof result.dest === 'string' ? result.dest : undefined;
      if (path === undefined || result.failed) return result;
      const r = await ctx.run(sh`p=${path}; [ -e "$p" ] || exit 0; stat -L -c '%u|%g|%U|%G|%F|%h' -- "$p"; stat -c '%a|%F|%s' -- "$p"`);
      const [follow = '', own = ''] = r.stdout.split('\n');
      if (r.rc !== 0 || !own) return result;
      const [uid = '', gid = '', user = '', group = '', ftype = '', nlink = ''] = follow.split('|');
      const [mode = '', ltype = '', size = ''] = own.split('|');
      const state = ltype === 'symbolic link' ? 'link' : ftype === 'directory' ? 'directory' : Number(nlink) > 1 ? 'hard' : 'file';
      return {
        ...result,
        uid: Number(uid),
        gid: Number(gid),
        owner: user === 'UNKNOWN' ? uid : user,
        group: group === 'UNKNOWN' ? gid : group,
        mode: `0${mode.padStart(3, '0')}`,
        state,
        size: Number(size),
      };
    },
  };
}
