import { sh } from '../transport/quote.js';
import { parseStat, statScript, writeRemote } from './remote-file.js';
import type { Params } from './spec.js';
import { joinLines, splitLines } from './text-edit.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';
import { noControlChars } from './validate.js';

interface MountState {
  fstab: string;
  /** what is mounted at path now: "SOURCE FSTYPE OPTIONS", undefined when nothing */
  mounted?: { source: string; fstype: string; options: string };
}

interface MountChange {
  fstab: string | null;
  action: 'mount' | 'remount' | 'unmount' | 'none';
}

const SEP = '__orch_findmnt__';

async function queryMount(ctx: ModuleContext, p: Params): Promise<MountState> {
  noControlChars('mount', 'path', p.path);
  const r = await ctx.run(
    `${statScript(String(p.fstab), true)}; echo ${SEP}; ` +
      sh`findmnt -n -r -o SOURCE,FSTYPE,OPTIONS --mountpoint ${String(p.path)} | tail -n 1 || true`,
  );
  if (r.rc !== 0) throw commandFailed('reading mount state', r);
  const [statOut = '', mountOut = ''] = r.stdout.split(`${SEP}\n`);
  const f = parseStat(statOut);
  const [source, fstype, options] = mountOut.trim().split(' ');
  return {
    fstab: f.content?.toString('utf8') ?? '',
    mounted: source && fstype ? { source, fstype, options: options ?? '' } : undefined,
  };
}

/** An fstab field as Ansible's mount module writes it: space, & and backslash as octal escapes. */
export function escapeFstab(module: string, param: string, v: unknown): string {
  return noControlChars(module, param, v).replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/&/g, '\\046');
}

/** The six fields of the entry, escaped; a newline anywhere (it would add an fstab line) is refused. */
function fstabFields(p: Params): string[] {
  for (const k of ['dump', 'passno'] as const) {
    if (!/^\d+$/.test(String(p[k] ?? '0')))
      throw new ModuleFailure(`mount: ${k} must be a number, got ${JSON.stringify(String(p[k]))}`);
  }
  return [
    escapeFstab('mount', 'src', p.src),
    escapeFstab('mount', 'path', p.path),
    escapeFstab('mount', 'fstype', p.fstype),
    escapeFstab('mount', 'opts', p.opts ?? 'defaults'),
    String(p.dump ?? '0'),
    String(p.passno ?? '0'),
  ];
}

/** Pure: fstab text with the entry for `path` set (or removed). Other lines are kept byte for byte. */
export function editFstab(text: string, p: Params, present: boolean): string | null {
  const path = escapeFstab('mount', 'path', p.path);
  const want = present ? fstabFields(p) : [];
  // Ansible writes a new or changed line with single spaces between the fields
  const entry = want.join(' ');
  const lines = splitLines(text);
  const out: string[] = [];
  let placed = false;
  for (const l of lines) {
    const fields = l.trim().split(/\s+/);
    if (!l.trim().startsWith('#') && fields[1] === path) {
      if (present && !placed) {
        const same = want.every((v, i) => v === (fields[i] ?? (i >= 4 ? '0' : '')));
        out.push(same ? l : entry);
        placed = true;
      }
      continue;
    }
    out.push(l);
  }
  if (present && !placed) out.push(entry);
  const next = joinLines(out);
  return next === text ? null : next;
}

const FLAG_OPTIONS = new Set([
  'ro',
  'rw',
  'nosuid',
  'suid',
  'nodev',
  'dev',
  'noexec',
  'exec',
  'noatime',
  'relatime',
  'strictatime',
  'nodiratime',
  'sync',
]);

function sizeInKb(v: string): number | undefined {
  const m = /^(\d+)([kmg]?)$/i.exec(v);
  if (!m) return undefined;
  const mult = { '': 1 / 1024, k: 1, m: 1024, g: 1024 * 1024 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

/**
 * Whether the live mount lacks what was asked: flags the kernel reports (noatime, nosuid...) and a
 * tmpfs size. Options the kernel does not echo back (defaults, mode=1777, nofail) are not compared.
 */
export function optionsDiffer(want: string, live: string): boolean {
  const have = new Set(live.split(','));
  for (const o of want.split(',')) {
    if (FLAG_OPTIONS.has(o) && !have.has(o)) return true;
    if (o.startsWith('size=')) {
      const a = sizeInKb(o.slice(5));
      const b = [...have].find((h) => h.startsWith('size='));
      if (a !== undefined && b !== undefined && sizeInKb(b.slice(5)) !== a) return true;
    }
  }
  return false;
}

export function planMount(
  p: Params,
  s: MountState,
): { changes: MountChange; result: { diff: { path: string; before: string; after: string }[] } } | null {
  const state = String(p.state);
  const needsEntry = state === 'mounted' || state === 'present';
  if (needsEntry && (!p.src || !p.fstype)) throw new ModuleFailure(`src and fstype are required with state=${state}`);
  const fstab = state === 'absent' ? editFstab(s.fstab, p, false) : needsEntry ? editFstab(s.fstab, p, true) : null;
  let action: MountChange['action'] = 'none';
  if (state === 'mounted') {
    if (!s.mounted) action = 'mount';
    else if (fstab !== null || optionsDiffer(String(p.opts ?? 'defaults'), s.mounted.options)) action = 'remount';
  } else if ((state === 'unmounted' || state === 'absent') && s.mounted) action = 'unmount';
  else if (state === 'remounted') action = 'remount';
  if (fstab === null && action === 'none') return null;
  const diff = [];
  if (fstab !== null) diff.push({ path: String(p.fstab), before: s.fstab, after: fstab });
  if (action !== 'none')
    diff.push({
      path: String(p.path),
      before: s.mounted ? `mounted ${s.mounted.fstype} (${s.mounted.options})\n` : 'not mounted\n',
      after: `${action}\n`,
    });
  return { changes: { fstab, action }, result: { diff } };
}

export const mount = defineStateModule<MountState, MountChange>({
  name: 'mount',
  spec: {
    params: {
      path: { type: 'path', support: 'full', required: true, aliases: ['name'] },
      src: { type: 'str', support: 'full' },
      fstype: { type: 'str', support: 'full' },
      opts: { type: 'str', support: 'full' },
      dump: { type: 'str', support: 'full', default: '0' },
      passno: { type: 'str', support: 'full', default: '0' },
      state: {
        type: 'str',
        support: 'full',
        required: true,
        choices: ['absent', 'mounted', 'present', 'unmounted', 'remounted'],
      },
      fstab: { type: 'path', support: 'full', default: '/etc/fstab' },
      backup: { type: 'bool', support: 'full', default: false },
    },
  },
  query: queryMount,
  plan: planMount,
  async apply(ctx, p, c, s) {
    const path = String(p.path);
    if (c.fstab !== null)
      await writeRemote(ctx, String(p.fstab), c.fstab, { backup: p.backup === true, throughLinks: true });
    let cmd = '';
    if (c.action === 'mount') cmd = sh`mkdir -p -- ${path} && mount -- ${path}`;
    else if (c.action === 'remount')
      cmd =
        s.mounted && p.fstype !== undefined && s.mounted.fstype !== p.fstype
          ? sh`umount -- ${path} && mount -- ${path}`
          : sh`mount -o remount -- ${path}`;
    else if (c.action === 'unmount') cmd = sh`umount -- ${path}`;
    if (cmd) {
      const r = await ctx.run(cmd);
      if (r.rc !== 0) throw commandFailed(`${c.action} ${path}`, r);
    }
  },
});
