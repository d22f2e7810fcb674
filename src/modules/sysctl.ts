import { sh } from '../transport/quote.js';
import { perlString, statPerl } from './probe.js';
import { perlWriteCommand } from './file-write.js';
import { parseStat, writeRemote, type RemoteFile } from './remote-file.js';
import type { Params } from './spec.js';
import { joinLines, splitLines } from './text-edit.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';
import { sysctlKey } from './validate.js';

interface SysctlState {
  file: RemoteFile;
  text: string | null;
  /** live value, undefined when the key does not exist */
  live?: string;
  writable: boolean;
}

interface SysctlChange {
  fileText: string | null;
  setLive: boolean;
}

/** Kernel values compare with whitespace folded: "32768	60999" equals "32768 60999". */
export function normalizeSysctlValue(v: unknown): string {
  return String(v).trim().split(/\s+/).join(' ');
}

/**
 * As procps sysctl reads a key: when its first separator is a dot, dots and slashes swap (eth0/100 is the interface
 * eth0.100).
 */
export function keyPath(name: string): string {
  const path = /^[^./]*\./.test(name) ? name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.')) : name;
  return `/proc/sys/${path}`;
}

/** Pure: the sysctl file after setting (or removing) `name`. */
export function editSysctlFile(text: string | null, name: string, value: string | undefined): string | null {
  const lines = splitLines(text ?? '');
  const re = new RegExp(`^\\s*${sysctlKey(name).replace(/[+]/g, '\\+').replace(/[./]/g, '[./]')}\\s*=`);
  const want = value === undefined ? undefined : `${name}=${value}`;
  const out: string[] = [];
  let placed = false;
  for (const l of lines) {
    if (re.test(l)) {
      if (want !== undefined && !placed)
        out.push(normalizeSysctlValue(l.split('=').slice(1).join('=')) === value ? l : want);
      placed = true;
    } else out.push(l);
  }
  if (want !== undefined && !placed) out.push(want);
  const next = joinLines(out);
  return next === (text ?? '') ? null : next;
}

async function querySysctl(ctx: ModuleContext, p: Params): Promise<SysctlState> {
  const name = sysctlKey(p.name);
  const path = keyPath(name);
  // the file's state (stat probe), then LIVE|value (newlines as spaces) and W when it can be written (not V|: that is
  // parseStat's lsattr line)
  const liveProbe = [
    `my $k = ${perlString(path)};`,
    'if (-e $k) { my $x = ""; if (open(my $v, "<", $k)) { local $/; $x = <$v> // ""; close $v; } $x =~ tr/\\n/ /;',
    // writable: opened write-only (1: O_WRONLY on Linux) and closed, which writes nothing (POSIX costs ~6 ms to load)
    '  print "LIVE|$x\\n"; if (sysopen(my $w, $k, 1)) { close $w; print "W\\n"; } }',
  ];
  const r = await ctx.probe([`my $p = ${perlString(String(p.sysctl_file))};`, statPerl(true), ...liveProbe].join('\n'));
  if (r.rc !== 0) throw commandFailed('reading sysctl state', r);
  const file = parseStat(r.stdout);
  const live = /^LIVE\|(.*)$/m.exec(r.stdout)?.[1];
  return {
    file,
    text: file.exists ? (file.content?.toString('utf8') ?? '') : null,
    live,
    writable: /^W$/m.test(r.stdout),
  };
}

export function planSysctl(
  p: Params,
  s: SysctlState,
): { changes: SysctlChange; result: { diff: { path: string; before: string; after: string }[] } } | null {
  const name = sysctlKey(p.name);
  const present = p.state !== 'absent';
  if (present && (p.value === undefined || p.value === null))
    throw new ModuleFailure('value is required with state=present');
  const value = present ? normalizeSysctlValue(p.value) : undefined;
  if (name === 'net.ipv4.tcp_tw_recycle') {
    throw new ModuleFailure(
      'net.ipv4.tcp_tw_recycle was removed from Linux 4.12 and broke clients behind NAT before that; do not set it',
      {
        hint: 'Use net.ipv4.tcp_tw_reuse = 1 instead.',
      },
    );
  }
  // ignoreerrors: as Ansible's `sysctl -e`, an unknown key is only written to the file
  if (present && s.live === undefined && (p.sysctl_set || p.reload !== false) && p.ignoreerrors !== true) {
    throw new ModuleFailure(`sysctl key ${name} does not exist on this host (no ${keyPath(name)})`, {
      hint: 'Check the spelling, or load the kernel module that provides it.',
    });
  }
  const fileText = editSysctlFile(s.text, name, value);
  const liveDiffers = present && s.live !== undefined && normalizeSysctlValue(s.live) !== value;
  const setLive = liveDiffers && (p.sysctl_set === true || p.reload !== false);
  if (setLive && !s.writable) {
    throw new ModuleFailure(
      `sysctl key ${name} is read-only on this host (it is ${normalizeSysctlValue(s.live)}, wanted ${value})`,
      {
        hint: 'Global keys (vm.*, fs.*, kernel.*) cannot be set from a container or network namespace; set them on the machine itself, or skip this key here with `when`.',
      },
    );
  }
  if (fileText === null && !setLive) return null;
  const diff = [];
  if (fileText !== null) diff.push({ path: String(p.sysctl_file), before: s.text ?? '', after: fileText });
  if (setLive) diff.push({ path: keyPath(name), before: `${normalizeSysctlValue(s.live)}\n`, after: `${value}\n` });
  return { changes: { fileText, setLive }, result: { diff } };
}

const FILE_WRITTEN = 'ORCH-SYSCTL-FILE-WRITTEN';

export const sysctl = defineStateModule<SysctlState, SysctlChange>({
  name: 'sysctl',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true, aliases: ['key'] },
      value: { type: 'str', support: 'full', aliases: ['val'] },
      state: { type: 'str', support: 'full', default: 'present', choices: ['present', 'absent'] },
      sysctl_file: { type: 'path', support: 'full', default: '/etc/sysctl.conf' },
      reload: { type: 'bool', support: 'full', default: true },
      sysctl_set: { type: 'bool', support: 'full', default: false },
      ignoreerrors: { type: 'bool', support: 'full', default: false },
    },
  },
  query: querySysctl,
  plan: planSysctl,
  async apply(ctx, p, c) {
    const key = keyPath(String(p.name));
    const value = `${normalizeSysctlValue(p.value)}\n`;
    const live = c.setLive ? sh`printf '%s' ${value} > ${key}` : undefined;
    if (c.fileText === null) {
      const r = await ctx.run(live as string);
      if (r.rc !== 0) throw commandFailed(`setting ${String(p.name)}`, r);
      return;
    }
    if (!live) {
      await writeRemote(ctx, String(p.sysctl_file), c.fileText);
      return;
    }
    // the file, then the live value once the file is in place (stops at the first error): one round trip
    const r = await ctx.run(
      perlWriteCommand(String(p.sysctl_file), { then: { mark: FILE_WRITTEN, path: key, text: value } }),
      {
        stdin: c.fileText,
      },
    );
    if (r.rc !== 0)
      throw commandFailed(
        r.stdout.includes(FILE_WRITTEN) ? `setting ${String(p.name)}` : `writing ${String(p.sysctl_file)}`,
        r,
      );
  },
});
