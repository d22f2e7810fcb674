import { createHmac, randomBytes } from 'node:crypto';
import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { writeRemote } from './remote-file.js';
import { parsePathInfo, PATH_INFO_OF_P, withPathInfo } from './path-info.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// ansible.builtin.known_hosts (2.14): ssh-keygen -F finds the host's entries (hashed ones too) on the
// host; the file is rewritten as Ansible does (the same-type line dropped, the key appended), and a
// state=absent without a key runs ssh-keygen -R.

export interface KnownHostsState {
  path: string;
  /** the key line as it will be written (hashed when hash_host), '' without a key */
  key: string;
  /** ssh-keygen -F HOST on the key alone: '' means the key does not name the host */
  sanity: string | null;
  search: { rc: number; stdout: string; stderr: string } | null;
  content: string | null;
  /** Ansible's path info of the file (results with a path carry it) */
  info?: Partial<ModuleResult>;
}

interface KeyFields {
  options?: string;
  host: string;
  type: string;
  key: string;
}

function normalize(line: string): KeyFields {
  const k = line.trim().split(/\s+/);
  if ((k[0] ?? '').startsWith('@')) return { options: k[0], host: k[1] ?? '', type: k[2] ?? '', key: k[3] ?? '' };
  return { host: k[0] ?? '', type: k[1] ?? '', key: k[2] ?? '' };
}

export function hashHostKey(host: string, key: string, salt: Buffer = randomBytes(20)): string {
  const hashed = createHmac('sha1', salt).update(host).digest();
  const parts = key.trim().split(/\s+/);
  const i = (parts[0] ?? '').startsWith('@') ? 1 : 0;
  parts[i] = `|1|${salt.toString('base64')}|${hashed.toString('base64')}`;
  return parts.join(' ');
}

/** Ansible's search_for_host_key over ssh-keygen -F output: [found, replaceOrAdd, foundLine]. */
export function searchHostKey(key: string, search: KnownHostsState['search']): [boolean, boolean, number | null] {
  if (!search) return [false, false, null];
  if (search.stdout === '' && search.stderr === '' && (search.rc === 0 || search.rc === 1)) return [false, false, null];
  if (search.rc !== 0)
    throw new ModuleFailure(`ssh-keygen failed (rc=${search.rc}, stdout='${search.stdout}',stderr='${search.stderr}')`);
  if (!key) return [true, false, null];
  const want = normalize(key);
  let foundLine: number | null = null;
  for (const l of search.stdout.split('\n')) {
    if (l === '') continue;
    if (l.startsWith('#')) {
      const m = /found: line (\d+)/.exec(l);
      if (m) foundLine = Number(m[1]);
      continue;
    }
    const found = normalize(l);
    if (want.host.startsWith('|1|') && found.host.startsWith('|1|')) want.host = found.host;
    if (JSON.stringify(want) === JSON.stringify(found)) return [true, false, foundLine];
    if (want.type === found.type) return [true, true, foundLine];
  }
  return [true, true, null];
}

export interface KnownHostsPlan {
  /** run ssh-keygen -R (state=absent without a key) */
  remove: boolean;
  /** the file to write, null when it is not rewritten */
  text: string | null;
  before: string;
  after: string;
}

/** Pure: what known_hosts does given the ssh-keygen answers and the file. */
export function planKnownHosts(p: Params, s: KnownHostsState): KnownHostsPlan | null {
  const state = p.state === 'absent' ? 'absent' : 'present';
  if (!s.key && state !== 'absent') throw new ModuleFailure('No key specified when adding a host');
  if (s.key) {
    if (/\S+(\s+)?,(\s+)?/.test(String(p.name).toLowerCase())) {
      throw new ModuleFailure(
        'Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file.',
      );
    }
    if (s.sanity === '') throw new ModuleFailure('Host parameter does not match hashed host field in supplied key');
  }
  const [found, replace, foundLine] = searchHostKey(s.key, s.search);
  const before = s.content ?? '';
  const lines = before.split(/(?<=\n)/).filter((l) => l !== '');
  const dropped = (replace || state === 'absent') && foundLine !== null && foundLine >= 1 && foundLine <= lines.length;
  const afterLines = dropped ? lines.filter((_l, i) => i !== (foundLine as number) - 1) : [...lines];
  if (state === 'present' && (replace || foundLine === null)) afterLines.push(s.key);
  const after = afterLines.join('');
  if (state === 'absent' && foundLine === null && s.key) return null;
  const remove = found && !s.key && state === 'absent';
  const rewrite = replace || found !== (state === 'present');
  if (!remove && !rewrite) return null;
  let text: string | null = null;
  if (rewrite && !remove) {
    const kept = (s.content ?? '')
      .replace(/\r\n?/g, '\n')
      .split(/(?<=\n)/)
      .filter((l) => l !== '');
    const out = kept.filter((_l, i) => !(foundLine === i + 1 && (replace || state === 'absent')));
    if (state === 'present') out.push(s.key);
    text = out.join('');
  }
  return { remove, text, before, after };
}

async function queryKnownHosts(ctx: ModuleContext, p: Params): Promise<KnownHostsState> {
  const host = String(p.name).toLowerCase();
  if (host === '' || /[\x00-\x1f\x7f]/.test(host) || host.startsWith('-'))
    throw new ModuleFailure(`invalid host name ${JSON.stringify(host)}`);
  let key = typeof p.key === 'string' ? p.key : '';
  if (key && p.hash_host === true) key = hashHostKey(host, key);
  if (key && !key.endsWith('\n')) key += '\n';
  const rawPath = String(p.path ?? '~/.ssh/known_hosts');
  if (/[\x00-\x1f\x7f]/.test(rawPath) || rawPath.startsWith('-'))
    throw new ModuleFailure(`invalid path ${JSON.stringify(rawPath)}`);
  const pathExpr = rawPath === '~' || rawPath.startsWith('~/') ? sh`p="$HOME"${rawPath.slice(1)}` : sh`p=${rawPath}`;
  const script = [
    'command -v ssh-keygen >/dev/null || { echo \'Failed to find required executable "ssh-keygen" in paths: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\' >&2; exit 127; }',
    pathExpr,
    sh`h=${host}`,
    'printf "PATH|%s\\n" "$p"',
    'o=$(mktemp); e=$(mktemp); trap \'rm -f "$o" "$e"\' EXIT',
    key
      ? sh`printf '%s' ${key} > "$e"; ssh-keygen -F "$h" -f "$e" > "$o" 2>/dev/null; printf 'SANITY|'; base64 -w0 < "$o"; echo; : > "$e"`
      : '',
    'if [ -e "$p" ]; then ssh-keygen -F "$h" -f "$p" > "$o" 2> "$e"; echo "RC|$?"; printf "OUT|"; base64 -w0 < "$o"; echo; printf "ERR|"; base64 -w0 < "$e"; echo; fi',
    '[ -f "$p" ] && { printf "FILE|"; base64 -w0 < "$p"; echo; }',
    PATH_INFO_OF_P,
    'true',
  ].join('\n');
  const r = await ctx.run(script);
  if (r.rc !== 0) throw r.rc === 127 ? new ModuleFailure(r.stderr.trim()) : commandFailed('reading known hosts', r);
  const tag = (t: string) =>
    r.stdout
      .split('\n')
      .find((l) => l.startsWith(`${t}|`))
      ?.slice(t.length + 1);
  const dec = (t: string) => {
    const v = tag(t);
    return v === undefined ? null : Buffer.from(v, 'base64').toString('utf8');
  };
  const rc = tag('RC');
  return {
    path: tag('PATH') ?? rawPath,
    key,
    sanity: key ? (dec('SANITY') ?? '') : null,
    search: rc === undefined ? null : { rc: Number(rc), stdout: dec('OUT') ?? '', stderr: dec('ERR') ?? '' },
    content: dec('FILE'),
    info: parsePathInfo(r.stdout),
  };
}

export const knownHosts = withPathInfo(
  defineStateModule<KnownHostsState, KnownHostsPlan>({
    name: 'known_hosts',
    spec: {
      params: {
        name: { type: 'str', support: 'full', required: true, aliases: ['host'] },
        key: { type: 'str', support: 'full' },
        path: { type: 'path', support: 'full', default: '~/.ssh/known_hosts' },
        hash_host: { type: 'bool', support: 'full', default: false },
        state: { type: 'str', support: 'full', default: 'present', choices: ['absent', 'present'] },
      },
    },
    query: queryKnownHosts,
    describe: (p, s): Partial<ModuleResult> => ({
      name: p.name,
      key: p.key ?? null,
      path: s.path,
      hash_host: p.hash_host,
      state: p.state,
      ...(s.info ?? {}),
    }),
    plan(p, s) {
      const planned = planKnownHosts(p, s);
      if (!planned) return null;
      return { changes: planned, result: { diff: [{ path: s.path, before: planned.before, after: planned.after }] } };
    },
    async apply(ctx, p, c, s) {
      if (c.remove) {
        const r = await ctx.run(sh`ssh-keygen -R ${String(p.name).toLowerCase()} -f ${s.path}`);
        if (r.rc !== 0)
          throw new ModuleFailure((r.stderr || r.stdout).trim(), { rc: r.rc, stdout: r.stdout, stderr: r.stderr });
      }
      if (c.text !== null) await writeRemote(ctx, s.path, c.text);
    },
  }),
);
