import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { writeRemote } from './remote-file.js';
import { parsePathInfo, PATH_INFO_OF_P, withPathInfo } from './path-info.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// A port of ansible.posix 1.5 authorized_key: keys parsed and the file re-serialised as it does (options
// joined with commas, "type key comment" with a space even when the comment is empty), same ordering.

const KEY_TYPES = new Set([
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'webauthn-sk-ecdsa-sha2-nistp256@openssh.com',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp384-cert-v01@openssh.com',
  'ecdsa-sha2-nistp521',
  'ecdsa-sha2-nistp521-cert-v01@openssh.com',
  'sk-ssh-ed25519@openssh.com',
  'sk-ssh-ed25519-cert-v01@openssh.com',
  'ssh-ed25519',
  'ssh-ed25519-cert-v01@openssh.com',
  'ssh-dss',
  'ssh-rsa',
  'ssh-xmss@openssh.com',
  'ssh-xmss-cert-v01@openssh.com',
  'rsa-sha2-256',
  'rsa-sha2-512',
  'ssh-rsa-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'ssh-dss-cert-v01@openssh.com',
]);

/** Options in order; a name may repeat (Ansible's keydict). */
type Options = [string, string | null][];

/** One entry of the file: a key (type set) or a line kept as it is (type 'skipped'). */
interface Entry {
  id: string;
  type: string;
  options: Options;
  comment: string;
  rank: number;
}

export function parseOptions(options: string | null): Options {
  const out: Options = [];
  if (!options) return out;
  const parts = options.split(/((?:[^,"']|"[^"]*"|'[^']*')+)/).slice(1, -1);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq >= 0) out.push([part.slice(0, eq), part.slice(eq + 1)]);
    else if (part !== ',') out.push([part, null]);
  }
  return out;
}

/** keydict equality is dict equality: per name, the list of values in order. */
function sameOptions(a: Options, b: Options): boolean {
  const group = (o: Options) => {
    const m = new Map<string, (string | null)[]>();
    for (const [k, v] of o) m.set(k, [...(m.get(k) ?? []), v]);
    return m;
  };
  const ga = group(a);
  const gb = group(b);
  if (ga.size !== gb.size) return false;
  for (const [k, v] of ga) if (JSON.stringify(gb.get(k)) !== JSON.stringify(v)) return false;
  return true;
}

export function parseKey(rawKey: string, rank: number): Entry | null {
  const raw = rawKey.replace(/\\#/g, '#');
  const parts = raw.split(/[ \t\r\n]+/).filter((x) => x !== '');
  if (parts[0] === '#') return { id: raw, type: 'skipped', options: [], comment: '', rank };
  const i = parts.findIndex((x) => KEY_TYPES.has(x));
  if (i < 0) return null;
  const key = parts[i + 1];
  if (key === undefined) return null;
  return {
    id: key,
    type: parts[i] as string,
    options: parseOptions(i > 0 ? parts.slice(0, i).join(' ') : null),
    comment: parts.slice(i + 2).join(' '),
    rank,
  };
}

function parseKeys(content: string): Map<string, Entry> {
  const keys = new Map<string, Entry>();
  // read in text mode, as Python's open(): \r\n and \r become \n
  const lines = content
    .replace(/\r\n?/g, '\n')
    .split(/(?<=\n)/)
    .filter((l) => l !== '');
  lines.forEach((line, rank) => {
    const e = parseKey(line, rank) ?? { id: line, type: 'skipped', options: [], comment: '', rank };
    keys.set(e.id, e);
  });
  return keys;
}

function serialize(keys: Map<string, Entry>): string {
  const sorted = [...keys.values()].sort((a, b) => a.rank - b.rank);
  return sorted
    .map((e) => {
      if (e.type === 'skipped') return e.id;
      const opts =
        e.options.length > 0 ? `${e.options.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(',')} ` : '';
      return `${opts}${e.type} ${e.id} ${e.comment}\n`;
    })
    .join('');
}

/** Pure authorized_key: the new file content, or null when nothing changes. */
export function planKeys(p: Params, existing: string): string | null {
  const state = p.state === 'absent' ? 'absent' : 'present';
  const keys = parseKeys(existing);
  const newKeys = String(p.key)
    .split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/)
    .filter((s) => s && !s.startsWith('#'));
  const toExist: string[] = [];
  const maxRank = keys.size;
  let write = false;
  newKeys.forEach((nk, rank) => {
    let e = parseKey(nk, rank);
    if (!e) throw new ModuleFailure(`invalid key specified: ${nk}`);
    if (typeof p.key_options === 'string') e = { ...e, options: parseOptions(p.key_options) };
    if (typeof p.comment === 'string') e = { ...e, comment: p.comment };
    const cur = keys.get(e.id);
    let matched = false;
    let nonMatching = false;
    if (cur) {
      const same = cur.type === e.type && sameOptions(cur.options, e.options) && cur.comment === e.comment;
      if (!same && state === 'present') nonMatching = true;
      else matched = true;
    }
    if (state === 'present') {
      toExist.push(e.id);
      if (nonMatching) {
        keys.delete(e.id);
        write = true;
      }
      if (!matched) {
        keys.set(e.id, { ...e, rank: maxRank + rank });
        write = true;
      }
    } else if (matched) {
      keys.delete(e.id);
      write = true;
    }
  });
  if (state === 'present' && p.exclusive === true) {
    for (const id of [...keys.keys()]) {
      if (!toExist.includes(id)) {
        keys.delete(id);
        write = true;
      }
    }
  }
  return write ? serialize(keys) : null;
}

interface KeyState {
  keyfile: string;
  existing: string;
  user?: { uid: string; gid: string; home: string };
  info?: Partial<ModuleResult>;
}

function checkName(what: string, v: string): void {
  if (v === '' || /[\x00-\x1f\x7f]/.test(v) || v.startsWith('-'))
    throw new ModuleFailure(`invalid ${what}: ${JSON.stringify(v)}`);
}

async function queryKeys(ctx: ModuleContext, p: Params): Promise<KeyState> {
  const userName = String(p.user);
  checkName('user', userName);
  const key = String(p.key);
  if (key.startsWith('http'))
    throw new ModuleFailure(
      `authorized_key: keys from a URL (${key}) are not supported by orch; give the key text (e.g. with lookup('url', ...))`,
    );
  const path = typeof p.path === 'string' ? p.path : undefined;
  const lookup = !(ctx.check && path !== undefined);
  // one round trip: the user's entry, the key file (its home's unless path is given), its content and info
  const script = [
    sh`u=${userName}`,
    lookup ? 'e=$(getent passwd -- "$u"); printf "GETENT|%s|%s\\n" "$?" "$e"' : 'e=',
    path !== undefined ? sh`f=${path}` : 'h=$(printf "%s" "$e" | cut -d: -f6); f="${h%/}/.ssh/authorized_keys"',
    p.follow === true ? 'f=$(realpath -m -- "$f")' : '',
    'printf "KEYFILE|%s\\n" "$f"',
    '[ -f "$f" ] && { printf "CONTENT|"; base64 -w0 < "$f"; echo; }',
    `p="$f"; ${PATH_INFO_OF_P}`,
  ].join('\n');
  const r = await ctx.run(script);
  if (r.rc !== 0) throw commandFailed('reading the authorized keys', r);
  const tag = (t: string) =>
    r.stdout
      .split('\n')
      .find((l) => l.startsWith(`${t}|`))
      ?.slice(t.length + 1);
  let user: KeyState['user'];
  if (lookup) {
    const [rc = '', ...entry] = (tag('GETENT') ?? '').split('|');
    if (rc === '2') {
      if (ctx.check && path === undefined)
        throw new ModuleFailure('Either user must exist or you must provide full path to key file in check mode');
      throw new ModuleFailure(`Failed to lookup user ${userName}: "getpwnam(): name not found: '${userName}'"`);
    }
    if (rc !== '0') throw new ModuleFailure(`getent passwd ${userName} failed (rc=${rc})`);
    const f = entry.join('|').split(':');
    user = { uid: f[2] ?? '', gid: f[3] ?? '', home: f[5] ?? '' };
  }
  const content = tag('CONTENT');
  const existing = content === undefined ? '' : Buffer.from(content, 'base64').toString('utf8');
  // a result's path is the `path` parameter: Ansible adds the file's info only when it is given
  return {
    keyfile: tag('KEYFILE') ?? '',
    existing,
    user,
    info: path !== undefined ? parsePathInfo(r.stdout) : undefined,
  };
}

function describe(p: Params, s: KeyState): Partial<ModuleResult> {
  const keys = [
    'user',
    'key',
    'path',
    'manage_dir',
    'state',
    'key_options',
    'exclusive',
    'comment',
    'validate_certs',
    'follow',
  ];
  const out: Partial<ModuleResult> = {};
  for (const k of keys) out[k] = p[k] ?? null;
  out.keyfile = s.keyfile;
  return { ...out, ...(s.info ?? {}) };
}

export const authorizedKey = withPathInfo(
  defineStateModule<KeyState, { text: string }>({
    name: 'authorized_key',
    spec: {
      params: {
        user: { type: 'str', support: 'full', required: true },
        key: { type: 'str', support: 'partial', note: 'a key given as a URL is not fetched', required: true },
        path: { type: 'path', support: 'full' },
        manage_dir: { type: 'bool', support: 'full', default: true },
        state: { type: 'str', support: 'full', default: 'present', choices: ['absent', 'present'] },
        key_options: { type: 'str', support: 'full' },
        exclusive: { type: 'bool', support: 'full', default: false },
        comment: { type: 'str', support: 'full' },
        validate_certs: { type: 'bool', support: 'none', note: 'keys are not fetched from URLs', default: true },
        follow: { type: 'bool', support: 'full', default: false },
      },
    },
    query: queryKeys,
    describe,
    plan(p, s) {
      const text = planKeys(p, s.existing);
      if (text === null) return null;
      return { changes: { text }, result: { diff: [{ path: s.keyfile, before: s.existing, after: text }] } };
    },
    async apply(ctx, p, c, s) {
      const u = s.user;
      if (!u) throw new ModuleFailure(`Failed to lookup user ${String(p.user)}`);
      const file = s.keyfile;
      const dir =
        typeof p.path === 'string' ? file.replace(/\/[^/]*$/, '') || '/' : `${u.home.replace(/\/+$/, '')}/.ssh`;
      const owner = `${u.uid}:${u.gid}`;
      const steps = ['set -e'];
      if (p.manage_dir !== false)
        steps.push(
          sh`[ -e ${dir} ] || mkdir -m 0700 -- ${dir}`,
          sh`chown ${owner} -- ${dir}`,
          sh`chmod 0700 -- ${dir}`,
        );
      steps.push(sh`mkdir -p -- "$(dirname -- ${file})"`);
      const r = await ctx.run(steps.join('\n'));
      if (r.rc !== 0) throw commandFailed(`creating ${dir}`, r);
      await writeRemote(ctx, file, c.text, { mode: '0600', owner: u.uid, group: u.gid });
    },
  }),
);
