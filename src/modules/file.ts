import { sh } from '../transport/quote.js';
import type { FileDiff } from '../core/result.js';
import { attributeFixes, parseStat, statRemote, statScript, type RemoteFile } from './remote-file.js';
import { octalMode } from './mode.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

interface Change {
  cmds: string[];
  diffs: FileDiff[];
}

const attrs = (p: Params) => ({ mode: p.mode as string | undefined, owner: p.owner as string | undefined, group: p.group as string | undefined });

/** Pure: the commands that bring `path` to the wanted state. */
export interface FileState extends RemoteFile {
  /** with recurse: some entry below the directory has another owner or group */
  recurseDiffers?: boolean;
  /** a dangling link the task follows: nothing to set (Ansible's warning) */
  dangling?: boolean;
}

/**
 * Ansible's `follow` (default yes): a link at `path` stands for its target, so mode and owner apply to the
 * target; with `follow: no` the link itself is looked at (chown -h; Linux links have no mode). link, hard
 * and absent always act on the path itself.
 */
function follows(p: Params): boolean {
  return p.follow !== false && !['link', 'hard', 'absent'].includes(String(p.state));
}

async function queryFile(ctx: ModuleContext, p: Params): Promise<FileState> {
  const path = String(p.path);
  // a dangling link followed: Ansible works on the link itself then
  const follow = follows(p) ? 'or-link' : false;
  if (!(p.recurse && (p.owner || p.group))) {
    const cur = await statRemote(ctx, path, false, follow);
    // followed and still a link: it dangles. Ansible warns and leaves it alone (state file)
    if (follow && cur.type === 'link' && (p.state === undefined || p.state === 'file')) {
      ctx.warn('Cannot set fs attributes on a non-existent symlink target. follow should be set to False to avoid this.');
      return { ...cur, dangling: true };
    }
    return cur;
  }
  const differs = [p.owner ? sh`! -user ${p.owner as string}` : '', p.group ? sh`! -group ${p.group as string}` : ''].filter((x) => x);
  const r = await ctx.run(`${statScript(path, false, follow)}; if [ -d ${sh`${path}`} ]; then printf 'R|%s\\n' "$(find ${sh`${path}`} \\( ${differs.join(' -o ')} \\) -print -quit)"; fi`);
  if (r.rc !== 0) throw commandFailed(`reading ${path}`, r);
  return { ...parseStat(r.stdout), recurseDiffers: /^R\|.+$/m.test(r.stdout) };
}

export function planFile(p: Params, cur: FileState): Change | null {
  const path = String(p.path);
  if (cur.dangling) return null;
  const state = String(p.state ?? (cur.exists ? (cur.type === 'directory' ? 'directory' : 'file') : 'file'));
  const cmds: string[] = [];
  const diffs: FileDiff[] = [];
  const was = cur.exists ? (cur.type ?? 'file') : 'absent';
  const transition = (after: string) => diffs.push({ path, header: 'state', before: was, after });
  switch (state) {
    case 'absent':
      if (!cur.exists) return null;
      cmds.push(sh`rm -rf -- ${path}`);
      transition('absent');
      return { cmds, diffs };
    case 'directory':
      if (cur.exists && cur.type !== 'directory') throw new ModuleFailure(`${path} exists and is not a directory`);
      if (!cur.exists) {
        cmds.push(sh`mkdir -p -- ${path}`);
        transition('directory');
      }
      break;
    case 'touch':
      cmds.push(sh`touch -- ${path}`);
      if (!cur.exists) transition('file');
      break;
    case 'file':
      if (!cur.exists) throw new ModuleFailure(`file (${path}) is absent, cannot continue`, { path, state: 'absent' });
      break;
    case 'link':
    case 'hard': {
      const src = p.src as string | undefined;
      if (!src) throw new ModuleFailure(`src is required for state=${state}`);
      if (state === 'link' && cur.type === 'link' && cur.linkTarget === src) break;
      if (state === 'hard' && cur.exists) break;
      if (cur.exists && cur.type === 'directory') throw new ModuleFailure(`refusing to replace directory ${path} with a link`);
      if (cur.exists && cur.type !== 'link' && !p.force) throw new ModuleFailure(`refusing to convert from ${cur.type ?? 'file'} to symlink for ${path}`, { hint: 'set force: yes' });
      // Atomic replace: a new link under a temporary name, renamed over the old one.
      cmds.push(
        state === 'link'
          ? // the temporary name is a fresh private directory (mktemp), not a name another user could have made
            sh`d=$(mktemp -d "$(dirname -- ${path})/.orch-tmp.XXXXXX") && ln -s -- ${src} "$d/l" && mv -Tf -- "$d/l" ${path} && rmdir -- "$d"`
          : sh`ln -f -- ${src} ${path}`,
      );
      diffs.push({ path, header: 'src', before: cur.linkTarget ?? was, after: src });
      return { cmds, diffs };
    }
    default:
      throw new ModuleFailure(`unknown state ${state}`);
  }
  const want = attrs(p);
  let existing: RemoteFile = cur;
  if (!cur.exists) {
    // created by this task: mkdir/touch give 0777/0666 minus the umask, which a symbolic mode starts from
    const isDir = state === 'directory';
    const base = ((isDir ? 0o777 : 0o666) & ~(cur.umask ?? 0o022)).toString(8).padStart(4, '0');
    if (want.mode) want.mode = octalMode(want.mode, base, isDir, cur.umask);
    existing = { exists: true, type: isDir ? 'directory' : 'file', mode: undefined, owner: undefined, group: undefined };
  }
  const fixes = attributeFixes(path, existing, want, p.follow === false);
  if (p.recurse && state === 'directory' && cur.recurseDiffers) {
    const who = `${(p.owner as string | undefined) ?? ''}${p.group ? `:${String(p.group)}` : ''}`;
    fixes.cmds.push(sh`chown -R -- ${who} ${path}`);
    fixes.diffs.push({ path, header: 'owner (recursive)', before: 'mixed', after: who });
  }
  cmds.push(...fixes.cmds);
  diffs.push(...fixes.diffs);
  if (cmds.length === 0) return null;
  if (state === 'touch' && cmds.length === 1 && cur.exists) return { cmds, diffs: [] };
  return { cmds, diffs };
}

export const file = defineStateModule<FileState, Change>({
  name: 'file',
  spec: {
    params: {
      path: { type: 'path', support: 'full', required: true, aliases: ['dest', 'name'] },
      state: { type: 'str', support: 'full', choices: ['absent', 'directory', 'file', 'hard', 'link', 'touch'] },
      src: { type: 'path', support: 'full' },
      mode: { type: 'mode', support: 'full' },
      owner: { type: 'str', support: 'full' },
      group: { type: 'str', support: 'full' },
      recurse: { type: 'bool', support: 'full', default: false },
      force: { type: 'bool', support: 'full', default: false },
      follow: { type: 'bool', support: 'full', default: true },
    },
  },
  query: queryFile,
  plan: (p, cur) => {
    const c = planFile(p, cur);
    return c ? { changes: c, result: { diff: c.diffs } } : null;
  },
  describe: (p, cur) => ({ path: p.path, state: p.state ?? (cur.exists ? cur.type : 'absent') }),
  async apply(ctx, _p, c) {
    const r = await ctx.run(['set -e', ...c.cmds].join('\n'));
    if (r.rc !== 0) throw commandFailed('file', r);
    // `touch` on an existing file only changes times, which Ansible reports as changed as well.
    return { changed: true };
  },
});
