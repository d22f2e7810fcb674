import type { FileDiff } from '../core/result.js';
import { attributeFixes, parseStat, statRemote, type RemoteFile } from './remote-file.js';
import { perlString, statCode } from './probe.js';
import { opsCommand, shellOf, type FileOp } from './file-ops.js';
import { octalMode } from './mode.js';
import { withPathInfo } from './path-info.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

interface Change {
  /** the shell commands of `ops` (what runs when they have no Perl form) */
  cmds: string[];
  ops: FileOp[];
  diffs: FileDiff[];
}

const attrs = (p: Params) => ({
  mode: p.mode as string | undefined,
  owner: p.owner as string | undefined,
  group: p.group as string | undefined,
});

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
    const cur = await statRemote(ctx, path, false, follow, {
      details: explicitTime(p.modification_time) || explicitTime(p.access_time),
    });
    // followed and still a link: it dangles. Ansible warns and leaves it alone (state file)
    if (follow && cur.type === 'link' && (p.state === undefined || p.state === 'file')) {
      ctx.warn(
        'Cannot set fs attributes on a non-existent symlink target. follow should be set to False to avoid this.',
      );
      return { ...cur, dangling: true };
    }
    return cur;
  }
  const r = await ctx.probe(`${statCode(path, false, follow)}\n${recurseProbe(p.owner, p.group)}`);
  if (r.rc !== 0) throw commandFailed(`reading ${path}`, r);
  return { ...parseStat(r.stdout), recurseDiffers: /^R\|.+$/m.test(r.stdout) };
}

/**
 * Probe code printing `R|ENTRY` for the first entry at or below the directory `$p` with another owner or group
 * (`find PATH \( ! -user U -o ! -group G \) -print -quit`: never through a link, the path itself either), `R|`
 * when there is none. A name nobody has (find refuses it) finds nothing; an unreadable directory is passed.
 */
export function recurseProbe(owner: unknown, group: unknown): string {
  const id = (v: unknown, get: string) =>
    v === undefined || v === null
      ? 'undef'
      : `do { my $n = ${perlString(String(v))}; my $i = (${get}($n))[2]; defined $i ? $i : $n =~ /\\A\\d+\\z/ ? $n : -1 }`;
  return [
    `if (-d $p) { my ($wu, $wg) = (${id(owner, 'getpwnam')}, ${id(group, 'getgrnam')}); my $hit = ""; my $w;`,
    '  $w = sub { my ($f) = @_; my @s = lstat $f; return if $hit ne "" || !@s;',
    '    if ((defined $wu && $s[4] != $wu) || (defined $wg && $s[5] != $wg)) { $hit = $f; return; }',
    '    if (-d _ && opendir(my $dh, $f)) { my @n = grep { $_ ne "." && $_ ne ".." } readdir $dh; closedir $dh;',
    '      $w->("$f/$_") for @n; } };',
    '  $w->($p) unless (defined $wu && $wu == -1) || (defined $wg && $wg == -1); undef $w; print "R|$hit\\n"; }',
  ].join('\n');
}

const explicitTime = (v: unknown): boolean => typeof v === 'string' && v !== 'now' && v !== 'preserve';

/** Python's time.strptime for the formats file's *_time_format use (%Y %m %d %H %M %S and literals) → epoch seconds. */
export function parseFileTime(value: string, format: string): number {
  const names: string[] = [];
  const re = new RegExp(
    `^${format.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%([YmdHMS])/g, (_m, c: string) => (names.push(c), c === 'Y' ? '(\\d{4})' : '(\\d{1,2})'))}$`,
  );
  const m = re.exec(value);
  if (!m)
    throw new ModuleFailure(
      `Error while obtaining timestamp for time ${value} using format ${format}: time data '${value}' does not match format '${format}'`,
    );
  const f: Record<string, number> = { Y: 1900, m: 1, d: 1, H: 0, M: 0, S: 0 };
  names.forEach((n, i) => (f[n] = Number(m[i + 1])));
  return new Date(f.Y ?? 1900, (f.m ?? 1) - 1, f.d ?? 1, f.H ?? 0, f.M ?? 0, f.S ?? 0).getTime() / 1000;
}

/**
 * access_time / modification_time as Ansible's file module: `preserve` (the default, and for touch on an
 * existing file `now`) leaves a time alone, `now` sets it, a timestamp sets it when it differs.
 */
function timeCommands(p: Params, path: string, cur: FileState, state: string): FileOp[] {
  const cmds: FileOp[] = [];
  for (const [param, flag, current] of [
    ['modification_time', '-m', cur.details?.mtime],
    ['access_time', '-a', cur.details?.atime],
  ] as const) {
    const v = (p[param] as string | undefined) ?? (state === 'touch' ? 'now' : 'preserve');
    if (v === 'preserve') continue;
    if (v === 'now') cmds.push({ op: 'time', path, flag });
    else {
      const epoch = parseFileTime(v, String(p[`${param}_format`] ?? '%Y%m%d%H%M.%S'));
      if (current === undefined || Math.floor(current) !== epoch) cmds.push({ op: 'time', path, flag, epoch });
    }
  }
  return cmds;
}

/**
 * The keys Ansible's file module returns: `path` (absent, directory, file) or `dest` (touch, link, hard, with
 * `src`), and the attributes of what is there (add_path_info), read by the query when nothing changes.
 */
function describeFile(p: Params, cur: FileState): Record<string, unknown> {
  const state = String(p.state ?? (cur.exists ? (cur.type === 'directory' ? 'directory' : 'file') : 'file'));
  if (state === 'absent') return { path: p.path, state: 'absent' };
  const at = ['touch', 'link', 'hard'].includes(state)
    ? { dest: p.path, ...(state === 'touch' ? {} : { src: p.src }) }
    : { path: p.path };
  if (!cur.exists) return { ...at, state: p.state ?? 'absent' };
  const kind =
    cur.type === 'link' ? 'link' : cur.type === 'directory' ? 'directory' : state === 'hard' ? 'hard' : 'file';
  return {
    ...at,
    uid: cur.uid,
    gid: cur.gid,
    owner: cur.owner,
    group: cur.group,
    mode: cur.mode,
    state: kind,
    size: cur.size,
  };
}

export function planFile(p: Params, cur: FileState): Change | null {
  const path = String(p.path);
  if (cur.dangling) return null;
  const state = String(p.state ?? (cur.exists ? (cur.type === 'directory' ? 'directory' : 'file') : 'file'));
  const cmds: FileOp[] = [];
  const diffs: FileDiff[] = [];
  const done = () => ({ cmds: cmds.map(shellOf), ops: cmds, diffs });
  const was = cur.exists ? (cur.type ?? 'file') : 'absent';
  const transition = (after: string) => diffs.push({ path, header: 'state', before: was, after });
  switch (state) {
    case 'absent':
      if (!cur.exists) return null;
      cmds.push({ op: 'rm', path });
      transition('absent');
      return done();
    case 'directory':
      if (cur.exists && cur.type !== 'directory') throw new ModuleFailure(`${path} exists and is not a directory`);
      if (!cur.exists) {
        cmds.push({ op: 'mkdir', path });
        transition('directory');
      }
      break;
    case 'touch':
      if (!cur.exists) {
        cmds.push({ op: 'touch', path });
        transition('file');
      }
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
      if (cur.exists && cur.type === 'directory')
        throw new ModuleFailure(`refusing to replace directory ${path} with a link`);
      if (cur.exists && cur.type !== 'link' && !p.force)
        throw new ModuleFailure(`refusing to convert from ${cur.type ?? 'file'} to symlink for ${path}`, {
          hint: 'set force: yes',
        });
      // Atomic replace: a new link under a temporary name, renamed over the old one.
      cmds.push(state === 'link' ? { op: 'symlink', src, path } : { op: 'hard', src, path });
      diffs.push({ path, header: 'src', before: cur.linkTarget ?? was, after: src });
      return done();
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
    existing = {
      exists: true,
      type: isDir ? 'directory' : 'file',
      mode: undefined,
      owner: undefined,
      group: undefined,
    };
  }
  const fixes = attributeFixes(path, existing, want, p.follow === false);
  if (p.recurse && state === 'directory' && cur.recurseDiffers) {
    const who = `${(p.owner as string | undefined) ?? ''}${p.group ? `:${String(p.group)}` : ''}`;
    fixes.ops.push({ op: 'chownR', spec: who, path });
    fixes.diffs.push({ path, header: 'owner (recursive)', before: 'mixed', after: who });
  }
  cmds.push(...fixes.ops);
  diffs.push(...fixes.diffs);
  const times = state === 'link' || state === 'hard' ? [] : timeCommands(p, path, cur, state);
  if (cmds.length === 0 && times.length === 0) return null;
  cmds.push(...times);
  return done();
}

export const file = withPathInfo(
  defineStateModule<FileState, Change>({
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
        modification_time: { type: 'str', support: 'full' },
        modification_time_format: { type: 'str', support: 'full', default: '%Y%m%d%H%M.%S' },
        access_time: { type: 'str', support: 'full' },
        access_time_format: { type: 'str', support: 'full', default: '%Y%m%d%H%M.%S' },
      },
    },
    query: queryFile,
    plan: (p, cur) => {
      const c = planFile(p, cur);
      return c ? { changes: c, result: { diff: c.diffs } } : null;
    },
    describe: describeFile,
    async apply(ctx, _p, c) {
      // in the host's command runner when every step has a Perl form: no process at all
      const r = await ctx.run(opsCommand(c.ops));
      if (r.rc !== 0) throw commandFailed('file', r);
      // setting a time (touch's default `now`) is a change, as Ansible reports it
      return { changed: true };
    },
  }),
);
