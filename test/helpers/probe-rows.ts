import { createHash } from 'node:crypto';
import { find } from '../../src/modules/find.js';
import { parsePathInfo, pathInfoScript } from '../../src/modules/path-info.js';
import type { Follow, StatExtras } from '../../src/modules/probe.js';
import { statRemote } from '../../src/modules/remote-file.js';
import { validateParams, type Params } from '../../src/modules/spec.js';
import { sysctl } from '../../src/modules/sysctl.js';
import type { Module } from '../../src/modules/types.js';
import { group, user } from '../../src/modules/user.js';
import type { ExecResult } from '../../src/transport/types.js';

/*
 * The cases of the probe table (test/unit/probes.test.ts), shared by the recorder (test/tools/record-probes.ts),
 * which runs them against a lab host, and the test, which replays what the host printed. Each case goes through the
 * module's own read path (its query, or find's run) with a context that only runs commands and probes.
 */

/** The lab host's files the cases read: made by the recorder (SETUP), as root. */
export const DIR = '/srv/orch-probes';

export const SETUP = [
  `rm -rf ${DIR} && mkdir -p ${DIR}/tree/sub && cd ${DIR}`,
  "printf 'a=1\\nb=2\\n' > file && chown root:adm file && chmod 0640 file",
  'ln -s file link && ln -s missing dangling && printf x > hard1 && ln hard1 hard2 && mkfifo fifo',
  "printf 'q\\n' > \"odd name 'q'\" && printf 'x' > suid && chmod 4755 suid",
  "printf 'alpha\\n' > tree/a.conf && printf 'beta\\n' > tree/b.txt && printf 'h\\n' > tree/.hidden",
  "printf 'alpine\\n' > tree/sub/c.conf && ln -s a.conf tree/l.conf",
  "touch -d '2020-01-02 03:04:05' tree/b.txt",
  "printf 'net.ipv4.ip_forward = 1\\n' > /etc/sysctl.d/99-orch-probes.conf",
  'getent group probegrp >/dev/null || groupadd -g 4321 probegrp',
  'id probeuser >/dev/null 2>&1 || useradd -m -u 4322 -s /bin/sh -c "Probe User" -G probegrp,adm probeuser',
  "usermod -p '$6$salt$hash' probeuser",
  'mkdir -p ~probeuser/.ssh && printf "ssh-ed25519 AAAAC3Nza probe@lab\\n" > ~probeuser/.ssh/id_ed25519.pub',
  'touch ~probeuser/.ssh/id_ed25519',
].join('\n');

export type Kind = 'stat' | 'sysctl' | 'user' | 'group' | 'path info' | 'find';

export interface Case {
  kind: Kind;
  /** what the row checks, in words */
  name: string;
  input: Record<string, unknown>;
}

/** One command or probe the case sent, and what the host answered (stdout as it printed it). */
export interface Call {
  via: 'probe' | 'run';
  /** the first 12 hex digits of the SHA-1 of the probe code or command text: a changed probe needs a new recording */
  sent: string;
  rc: number;
  stdout: string;
  stderr: string;
}

export interface Row extends Case {
  calls: Call[];
  /** the value the parser made of it (Buffers as {base64}) */
  parsed: unknown;
}

const f = (path: string) => `${DIR}/${path}`;
const sysctlCase = (name: string, key: string, file = '/etc/sysctl.d/none.conf'): Case => ({
  kind: 'sysctl',
  name,
  input: { name: key, value: '1', sysctl_file: file },
});

export const CASES: Case[] = [
  { kind: 'stat', name: 'a regular file with its content', input: { path: f('file'), withContent: true } },
  {
    kind: 'stat',
    name: "a regular file with stat's extras (times, ids, access, mime, attributes)",
    input: { path: f('file'), extras: { details: true, mime: true, attributes: true } },
  },
  { kind: 'stat', name: 'a directory', input: { path: f('tree'), extras: { details: true } } },
  { kind: 'stat', name: 'a symbolic link, not followed', input: { path: f('link'), withContent: true } },
  { kind: 'stat', name: 'a symbolic link, followed', input: { path: f('link'), withContent: true, follow: true } },
  { kind: 'stat', name: 'a dangling link, followed or the link', input: { path: f('dangling'), follow: 'or-link' } },
  { kind: 'stat', name: 'a path that does not exist', input: { path: f('nothing'), withContent: true } },
  { kind: 'stat', name: 'a name with a space and a quote', input: { path: f("odd name 'q'"), withContent: true } },
  { kind: 'stat', name: 'a fifo (its kind in the raw mode)', input: { path: f('fifo'), extras: { details: true } } },
  { kind: 'stat', name: 'a setuid file', input: { path: f('suid'), extras: { details: true } } },
  sysctlCase('a key set in its file, live value writable', 'net.ipv4.ip_forward', '/etc/sysctl.d/99-orch-probes.conf'),
  sysctlCase('a file that does not exist, a live value with a tab', 'net.ipv4.ip_local_port_range'),
  sysctlCase('a key the kernel does not have', 'net.ipv4.no_such_key'),
  sysctlCase('a global key, read-only in a lab host', 'vm.swappiness'),
  { kind: 'user', name: 'root (password hash read as root)', input: { name: 'root' } },
  { kind: 'user', name: 'a user in secondary groups', input: { name: 'probeuser' } },
  {
    kind: 'user',
    name: 'generate_ssh_key: the key file and its public half',
    input: { name: 'probeuser', generate_ssh_key: true, ssh_key_type: 'ed25519' },
  },
  { kind: 'user', name: 'a user that does not exist', input: { name: 'nosuchuser' } },
  { kind: 'group', name: 'a group with members', input: { name: 'probegrp' } },
  { kind: 'group', name: 'a group that does not exist', input: { name: 'nosuchgroup' } },
  { kind: 'path info', name: 'a regular file', input: { path: f('file') } },
  { kind: 'path info', name: 'a directory', input: { path: f('tree') } },
  { kind: 'path info', name: 'a symbolic link', input: { path: f('link') } },
  { kind: 'path info', name: 'a file with two links (hard)', input: { path: f('hard1') } },
  { kind: 'path info', name: 'a path that does not exist', input: { path: f('nothing') } },
  { kind: 'find', name: 'files of one directory (hidden ones left out)', input: { paths: [f('tree')] } },
  {
    kind: 'find',
    name: 'recurse with a pattern and checksums',
    input: { paths: [f('tree')], recurse: true, patterns: ['*.conf'], get_checksum: true },
  },
  {
    kind: 'find',
    name: 'any type, hidden, by age',
    input: { paths: [f('tree')], file_type: 'any', hidden: true, age: '1w' },
  },
  {
    kind: 'find',
    name: 'contains (a probe on the files found)',
    input: { paths: [f('tree')], recurse: true, contains: 'al' },
  },
  { kind: 'find', name: 'a path that is not a directory is skipped', input: { paths: [f('nothing'), f('tree')] } },
];

/** The context the cases get: commands and probes only (and find's warnings). */
export interface ProbeContext {
  run(command: string): Promise<ExecResult>;
  probe(code: string): Promise<ExecResult>;
  warn(msg: string): void;
}

export const fingerprint = (text: string): string => createHash('sha1').update(text).digest('hex').slice(0, 12);

/** JSON of a parsed value, Buffers as {base64} (and undefined keys dropped, as JSON does). */
export function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key) {
      const raw = this[key];
      return Buffer.isBuffer(raw) ? { base64: raw.toString('base64') } : (raw as unknown);
    }),
  ) as unknown;
}

function params(mod: Module, input: Record<string, unknown>): Params {
  return validateParams(mod.name, mod.spec, input);
}

/** Run one case through the module's read path; the parsed value (with find's warnings). */
export async function runCase(c: Case, ctx: ProbeContext): Promise<unknown> {
  const ctxAsModule = ctx as never;
  const i = c.input;
  if (c.kind === 'stat') {
    const extras = (i.extras ?? {}) as StatExtras;
    return statRemote(ctxAsModule, String(i.path), i.withContent === true, (i.follow ?? false) as Follow, extras);
  }
  if (c.kind === 'path info') return parsePathInfo((await ctx.run(pathInfoScript(String(i.path)))).stdout) ?? null;
  const mod = c.kind === 'sysctl' ? sysctl : c.kind === 'user' ? user : c.kind === 'group' ? group : find;
  if (c.kind !== 'find') return (mod.query as NonNullable<Module['query']>)(ctxAsModule, params(mod, i));
  const warnings: string[] = [];
  const withWarn = { ...ctx, warn: (m: string) => warnings.push(m) };
  const result = await find.run(withWarn as never, params(find, i));
  return { ...result, warnings };
}
