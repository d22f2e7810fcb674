import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { writeRemote } from './remote-file.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// community.general 6.x timezone, Linux paths: timedatectl when it works (systemd), else Debian's
// /etc/timezone + /etc/localtime link + dpkg-reconfigure tzdata, and /etc/default/rcS + hwclock.

export interface TzState {
  systemd: boolean;
  status: string;
  zoneFile: boolean;
  dpkg: boolean;
  timezone: string | null;
  /** /etc/localtime: its link target, whether it exists, whether it has the planned zone's bytes */
  link: string | null;
  localtimeExists: boolean;
  sameAsPlanned: boolean;
  rcS: string | null;
  adjtime: string | null;
}

type Key = 'name' | 'hwclock';
type Values = Partial<Record<Key, string>>;

const TRUE = ['y', 'yes', 'on', '1', 'true', 't'];

function abort(msg: string, others: string[] = []): ModuleFailure {
  return new ModuleFailure(
    ['Error message:', msg, ...(others.length ? ['Other message(s):', ...others] : [])].join('\n'),
  );
}

function planned(p: Params): Values {
  const v: Values = {};
  if (typeof p.name === 'string') v.name = p.name;
  if (typeof p.hwclock === 'string') v.hwclock = p.hwclock;
  return v;
}

/** Pure: the values the host has now, read as Ansible reads them ('n/a' when unknown). */
export function currentValues(p: Params, s: TzState): Values {
  const want = planned(p);
  const out: Values = {};
  if (s.systemd) {
    if (want.name !== undefined) out.name = /^\s*Time ?zone\s*:\s*(\S+)/m.exec(s.status)?.[1] ?? '';
    if (want.hwclock !== undefined)
      out.hwclock = TRUE.includes((/^\s*RTC in local TZ\s*:\s*(\S+)/m.exec(s.status)?.[1] ?? '').toLowerCase())
        ? 'local'
        : 'UTC';
    return out;
  }
  if (want.name !== undefined) {
    let v = s.timezone === null ? 'n/a' : (/^(\S+)/m.exec(s.timezone)?.[1] ?? 'n/a');
    if (v === want.name) {
      if (s.link !== null) {
        if (!s.localtimeExists) v = 'n/a';
        else {
          const m = /(?:\/(?:usr\/share|etc)\/zoneinfo\/)(.*)/.exec(s.link);
          v = m ? (m[1] !== want.name ? (m[1] as string) : v) : 'n/a';
        }
      } else if (!s.sameAsPlanned) v = 'n/a';
    }
    out.name = v;
  }
  if (want.hwclock !== undefined) {
    let v = 'n/a';
    const m = s.rcS === null ? null : /^UTC\s*=\s*(\S+)/m.exec(s.rcS);
    if (m) v = TRUE.includes((m[1] as string).toLowerCase()) ? 'UTC' : 'local';
    if (v === want.hwclock) {
      const a = s.adjtime === null ? null : /^(UTC|LOCAL)$/m.exec(s.adjtime);
      v = a ? (a[1] === 'UTC' ? 'UTC' : 'local') : 'UTC';
    }
    out.hwclock = v;
  }
  return out;
}

/** Pure: Ansible's _edit_file: the first matching line replaced by `line`, other matches deleted. */
export function editTzFile(text: string | null, re: RegExp, line: string): { text: string; deleted: number } {
  const lines = (text ?? '').split(/(?<=\n)/).filter((l) => l !== '');
  const matched = lines.map((l, i) => (re.test(l) ? i : -1)).filter((i) => i >= 0);
  const at = matched[0] ?? 0;
  for (const i of [...matched].reverse()) lines.splice(i, 1);
  lines.splice(at, 0, line);
  return { text: lines.join(''), deleted: matched.length };
}

async function queryTz(ctx: ModuleContext, p: Params): Promise<TzState> {
  const name = typeof p.name === 'string' ? p.name : '';
  if (/[\x00-\x1f\x7f]/.test(name) || name.startsWith('-'))
    throw new ModuleFailure(`invalid timezone name ${JSON.stringify(name)}`);
  const zone = `/usr/share/zoneinfo/${name}`;
  const b64 = (tag: string, f: string) => `[ -f ${f} ] && { printf '%s|' ${tag}; base64 -w0 < ${f}; echo; }`;
  const script = [
    'if command -v timedatectl >/dev/null && s=$(timedatectl status 2>/dev/null); then echo SYSTEMD; printf "%s\\n" "$s" | base64 -w0; echo; fi',
    sh`[ -n ${name} ] && [ -f ${zone} ] && echo ZONE`,
    'command -v dpkg-reconfigure >/dev/null && echo DPKG',
    b64('TZ', '/etc/timezone'),
    '[ -L /etc/localtime ] && printf "LINK|%s\\n" "$(readlink /etc/localtime)"',
    '[ -e /etc/localtime ] && echo LT',
    sh`[ -n ${name} ] && cmp -s /etc/localtime ${zone} && echo SAME`,
    b64('RCS', '/etc/default/rcS'),
    b64('ADJ', '/etc/adjtime'),
    'true',
  ].join('\n');
  const r = await ctx.run(script);
  if (r.rc !== 0) throw commandFailed('reading the timezone', r);
  const lines = r.stdout.split('\n');
  const tag = (t: string) => lines.find((l) => l.startsWith(`${t}|`))?.slice(t.length + 1);
  const file = (t: string) => {
    const v = tag(t);
    return v === undefined ? null : Buffer.from(v, 'base64').toString('utf8');
  };
  const sys = lines.indexOf('SYSTEMD');
  return {
    systemd: sys >= 0,
    status: sys >= 0 ? Buffer.from(lines[sys + 1] ?? '', 'base64').toString('utf8') : '',
    zoneFile: lines.includes('ZONE'),
    dpkg: lines.includes('DPKG'),
    timezone: file('TZ'),
    link: tag('LINK') ?? null,
    localtimeExists: lines.includes('LT'),
    sameAsPlanned: lines.includes('SAME'),
    rcS: file('RCS'),
    adjtime: file('ADJ'),
  };
}

function diffOf(before: Values, after: Values): ModuleResult['diff'] {
  return (Object.keys(after) as Key[]).map((k) => ({
    path: 'timezone',
    header: k,
    before: before[k] ?? '',
    after: after[k] ?? '',
  }));
}

export const timezone = defineStateModule<TzState, { before: Values }>({
  name: 'timezone',
  spec: {
    params: {
      hwclock: { type: 'str', support: 'full', choices: ['local', 'UTC'], aliases: ['rtc'] },
      name: { type: 'str', support: 'full' },
    },
    requiredOneOf: [['hwclock', 'name']],
  },
  query: queryTz,
  plan(p, s) {
    const want = planned(p);
    if (want.name !== undefined && !s.zoneFile) throw abort(`given timezone "${want.name}" is not available`);
    const before = currentValues(p, s);
    const differs = (Object.keys(want) as Key[]).some((k) => before[k] !== want[k]);
    return differs ? { changes: { before }, result: { diff: diffOf(before, want) } } : null;
  },
  async apply(ctx, p, c, s) {
    const want = planned(p);
    const msg: string[] = [];
    const run = async (cmd: string, log: boolean) => {
      const r = await ctx.run(cmd);
      if (r.rc !== 0)
        throw new ModuleFailure((r.stderr || r.stdout).trim() || `${cmd} failed`, {
          rc: r.rc,
          cmd,
          stdout: r.stdout,
          stderr: r.stderr,
        });
      if (log) msg.push(`executed \`${cmd}\``);
    };
    for (const k of Object.keys(want) as Key[]) {
      const value = want[k] as string;
      if (c.before[k] === value) continue;
      if (s.systemd) {
        const arg = k === 'hwclock' ? (value === 'local' ? 'yes' : 'no') : value;
        await run(sh`/usr/bin/timedatectl ${k === 'name' ? 'set-timezone' : 'set-local-rtc'} ${arg}`, true);
      } else if (k === 'name') {
        const e = editTzFile(s.timezone, /^(\S+)/m, `${value}\n`);
        await writeRemote(ctx, '/etc/timezone', e.text);
        msg.push(`Added 1 line and deleted ${e.deleted} line(s) on /etc/timezone`);
        const zone = `/usr/share/zoneinfo/${value}`;
        if (s.dpkg) {
          await run(sh`/usr/bin/ln -sf ${zone} /etc/localtime`, false);
          await run('/usr/sbin/dpkg-reconfigure --frontend noninteractive tzdata', false);
        } else await run(sh`cp --remove-destination ${zone} /etc/localtime`, false);
      } else {
        const utc = value === 'local' ? 'no' : 'yes';
        const e = editTzFile(s.dpkg ? s.rcS : null, /^UTC\s*=\s*(\S+)/m, `UTC=${utc}\n`);
        if (s.dpkg) {
          await writeRemote(ctx, '/etc/default/rcS', e.text);
          msg.push(`Added 1 line and deleted ${e.deleted} line(s) on /etc/default/rcS`);
        }
        await run(`/usr/sbin/hwclock --systohc ${value === 'local' ? '--localtime' : '--utc'}`, true);
      }
    }
    const after = currentValues(p, await queryTz(ctx, p));
    if ((Object.keys(want) as Key[]).some((k) => after[k] !== want[k])) {
      throw abort(
        `still not desired state, though changes have made - planned: ${JSON.stringify(want)}, after: ${JSON.stringify(after)}`,
        msg,
      );
    }
    return msg.length > 0 ? { msg: msg.join('\n') } : {};
  },
});
