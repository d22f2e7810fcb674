import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { perlProbe } from '../transport/probe-command.js';
import { perlString } from './probe.js';
import type { Module, ModuleContext, RunResult } from './types.js';

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

/** The same lines as a probe: no process on the host (GNU stat's %F: only directory and link matter here). */
export function pathInfoProbe(path: string): string {
  return perlProbe(
    [
      `my $p = ${perlString(path)}; my @s = stat($p);`,
      'if (@s) { my $ft = -d _ ? "directory" : "regular file"; my @l = lstat($p);',
      '  my $lt = -l _ ? "symbolic link" : -d _ ? "directory" : "regular file";',
      '  printf "PI1|%d|%d|%s|%s|%s|%d\\n", $s[4], $s[5], scalar(getpwuid($s[4])) // "UNKNOWN",',
      '    scalar(getgrgid($s[5])) // "UNKNOWN", $ft, $s[3];',
      '  printf "PI2|%o|%s|%d\\n", $l[2] & 07777, $lt, $l[7]; }',
    ].join('\n'),
  );
}

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
 * the module's query, so a converged run costs no extra round trip) keeps it. Otherwise the info is
 * read by a probe sent behind each command the module sends for its path (same round trip): the
 * answer behind the last one describes the path as the module left it. Only when there is none (no
 * command sent, exec mode, a result for another path) does it cost a round trip of its own.
 */
export function withPathInfo(m: Module): Module {
  return {
    ...m,
    async run(ctx, params) {
      const asked = typeof params.path === 'string' ? params.path : typeof params.dest === 'string' ? params.dest : '';
      const behind = asked ? followedByPathInfo(ctx, asked) : undefined;
      const result = await m.run(behind?.ctx ?? ctx, params);
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
      const last = path === asked ? behind?.last() : undefined;
      const r = last ?? (await ctx.run(pathInfoProbe(path)));
      const info = r.rc === 0 ? parsePathInfo(r.stdout) : undefined;
      return info ? { ...result, ...info } : result;
    },
  };
}

/** A context whose every command carries the path-info probe behind it; last() is the answer behind the last one. */
function followedByPathInfo(ctx: ModuleContext, path: string) {
  const probe = pathInfoProbe(path);
  let sent = 0;
  let last: RunResult['followed'];
  const run: ModuleContext['run'] = async (command, opts) => {
    const n = ++sent;
    last = undefined;
    const r = await ctx.run(command, { ...opts, then: probe });
    if (n === sent) last = r.followed;
    return r;
  };
  return { ctx: { ...ctx, run }, last: () => last };
}
