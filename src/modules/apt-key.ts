import { sh } from '../transport/quote.js';
import type { ExecResult } from '../transport/types.js';
import type { Params } from './spec.js';
import { defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// ansible.builtin.apt_key (2.14): the same apt-key and gpg commands, run on the host; a key from `url` is
// fetched there too (curl), as Ansible's module fetches it on the target.

const LANG = 'LANG=C.UTF-8 LC_ALL=C.UTF-8 LC_MESSAGES=C.UTF-8';

export interface KeyState {
  /** from the params or read from the key's data */
  id: string;
  short: string;
  fp: string;
  keyId: string;
  before: string[];
  shortFormat: boolean;
  /** the key's bytes when they came from `url` (added from stdin) */
  data?: Buffer;
}

/** parse_output_for_keys: key ids of the pub/sub lines of apt-key's or gpg --with-colons' listing. */
export function parseKeys(output: string, shortFormat = false): string[] {
  const found: string[] = [];
  for (const line of output.split('\n')) {
    if (!(line.startsWith('pub') || line.startsWith('sub')) || line.includes('expired')) continue;
    const tokens = line.split(/\s+/).filter((t) => t);
    const code = tokens[1]?.split('/');
    if (code && code.length === 2) found.push(code[1] as string);
    else {
      const colon = line.split(':');
      if (colon.length > 4) found.push(colon[4] as string);
    }
  }
  return shortFormat ? found.map((k) => k.slice(-8)) : found;
}

/** parse_key_id: [short id, fingerprint (16), whole id], or null for an invalid id. */
export function parseKeyId(id: string): [string, string, string] | null {
  if (!/^\s*(0x)?[0-9a-f]+(_[0-9a-f]+)*\s*$/i.test(id)) return null;
  let key = id.toUpperCase();
  if (key.startsWith('0X')) key = key.slice(2);
  if (key.length !== 8 && key.length !== 16 && key.length <= 16) return null;
  return [key.slice(-8), key.length > 16 ? key.slice(-16) : key, key];
}

const aptKey = (keyring: unknown) => (keyring ? sh`apt-key --keyring ${String(keyring)}` : 'apt-key');

function fail(msg: string, r: ExecResult | undefined, extra: Record<string, unknown>): never {
  throw new ModuleFailure(msg, { ...extra, ...(r ? { rc: r.rc, stdout: r.stdout, stderr: r.stderr } : {}) });
}

async function listKeys(
  ctx: ModuleContext,
  p: Params,
  shortFormat: boolean,
  extra: Record<string, unknown>,
): Promise<string[]> {
  const cmd = `${aptKey(p.keyring)} adv --list-public-keys --keyid-format=long`;
  const r = await ctx.run(`${LANG} ${cmd}`);
  if (r.rc !== 0) fail('Unable to list public keys', r, { ...extra, cmd });
  return parseKeys(r.stdout, shortFormat);
}

async function download(ctx: ModuleContext, url: string): Promise<Buffer> {
  const r = await ctx.run(
    `t=$(mktemp) && trap 'rm -f -- "$t"' EXIT && ${sh`curl -fsSL -o "$t" --url ${url}`} && base64 -w0 < "$t"`,
  );
  if (r.rc !== 0) fail(`Failed to download key at ${url}: ${r.stderr.trim()}`, undefined, {});
  return Buffer.from(r.stdout.trim(), 'base64');
}

async function keyIdOf(ctx: ModuleContext, file: string, data?: Buffer): Promise<string | undefined> {
  const r = await ctx.run(`${LANG} ${sh`gpg --with-colons ${file === '-' ? '-' : file}`}`, data ? { stdin: data } : {});
  if (r.rc !== 0)
    throw new ModuleFailure(`Unable to extract key from '${data ? 'inline data' : file}'`, {
      stdout: r.stdout,
      stderr: r.stderr,
    });
  return parseKeys(r.stdout)[0];
}

async function queryKey(ctx: ModuleContext, p: Params): Promise<KeyState> {
  await ctx.run('command -v apt-key >/dev/null && command -v gpg >/dev/null').then((r) => {
    if (r.rc !== 0) throw new ModuleFailure('Failed to find required executable "apt-key" or "gpg"');
  });
  let id = p.id === undefined || p.id === null ? undefined : String(p.id);
  let data: Buffer | undefined;
  if (!id) {
    if (p.keyserver) throw new ModuleFailure('Missing key_id, required with keyserver.');
    if (p.url) data = await download(ctx, String(p.url));
    if (p.file) id = await keyIdOf(ctx, String(p.file));
    else if (data) id = await keyIdOf(ctx, '-', data);
    else if (p.data) id = await keyIdOf(ctx, '-', Buffer.from(String(p.data)));
  }
  const parsed = parseKeyId(id ?? '');
  if (!parsed) throw new ModuleFailure('Invalid key_id', { id: id ?? null });
  const [short, fp, keyId] = parsed;
  const shortFormat = keyId.length === 8;
  const extra = { id, short_id: short, fp, key_id: keyId };
  return { id: id as string, short, fp, keyId, shortFormat, data, before: await listKeys(ctx, p, shortFormat, extra) };
}

const has = (s: KeyState, keys: string[]) => (s.shortFormat ? keys.includes(s.short) : keys.includes(s.fp));
const keys = (s: KeyState) => ({ id: s.id, short_id: s.short, fp: s.fp, key_id: s.keyId, before: s.before });

async function addKey(ctx: ModuleContext, p: Params, s: KeyState): Promise<void> {
  const base = aptKey(p.keyring);
  let cmd: string;
  let r: ExecResult;
  if (p.file) {
    cmd = `${base} add ${sh`${String(p.file)}`}`;
    r = await ctx.run(cmd);
    if (r.rc !== 0) fail(`Unable to add a key from file ${String(p.file)}`, r, { ...keys(s), cmd, keyfile: p.file });
    return;
  }
  if (p.keyserver) {
    cmd = `${base} adv --no-tty --keyserver ${sh`${String(p.keyserver)}`} --recv ${sh`${s.keyId}`}`;
    for (let retry = 1; ; retry++) {
      r = await ctx.run(`${LANG} ${cmd}`);
      if (r.rc === 0) return;
      if (retry === 5) break;
    }
    if (r.rc === 2 && r.stdout.includes('not found on keyserver'))
      fail(`Key ${s.keyId} not found on keyserver ${String(p.keyserver)}`, undefined, { cmd });
    fail(`Error fetching key ${s.keyId} from keyserver: ${String(p.keyserver)}`, r, { cmd });
  }
  const data =
    p.data !== undefined && p.data !== null
      ? Buffer.from(String(p.data))
      : (s.data ?? (p.url ? await download(ctx, String(p.url)) : undefined));
  if (!data) throw new ModuleFailure('No key to add ... how did i get here?!?!', keys(s));
  cmd = `${base} add -`;
  r = await ctx.run(cmd, { stdin: data });
  if (r.rc !== 0) fail('Unable to add a key from binary data', r, { cmd });
}

export const aptKeyModule = defineStateModule<KeyState, 'add' | 'remove'>({
  name: 'apt_key',
  spec: {
    params: {
      id: { type: 'str', support: 'full' },
      url: { type: 'str', support: 'full' },
      data: { type: 'str', support: 'full' },
      file: { type: 'path', support: 'full' },
      keyring: { type: 'path', support: 'full' },
      validate_certs: { type: 'bool', support: 'partial', default: true, note: 'false is not implemented' },
      keyserver: { type: 'str', support: 'full' },
      state: { type: 'str', support: 'full', default: 'present', choices: ['absent', 'present'] },
    },
    mutuallyExclusive: [['data', 'file', 'keyserver', 'url']],
  },
  query: queryKey,
  describe: (_p, s) => keys(s),
  plan(p, s) {
    if (p.validate_certs === false) throw new ModuleFailure('apt_key: validate_certs=false is not implemented by orch');
    if (p.state === 'present') return has(s, s.before) ? null : { changes: 'add' };
    return s.before.includes(s.fp) ? { changes: 'remove' } : null;
  },
  async apply(ctx, p, change, s) {
    if (change === 'add') await addKey(ctx, p, s);
    else {
      // as Ansible: removed by the short id (apt-key bug with longer ids)
      const cmd = `${aptKey(p.keyring)} del ${sh`${s.short}`}`;
      const r = await ctx.run(cmd);
      if (r.rc !== 0) fail(`Unable to remove a key with id ${s.short}`, r, { ...keys(s), cmd, key_id: s.short });
    }
    const after = await listKeys(ctx, p, s.shortFormat, keys(s));
    const error = 'apt-key did not return an error, but %s (check that the id is correct and *not* a subkey)';
    if (change === 'add' && !has(s, after))
      throw new ModuleFailure(error.replace('%s', 'failed to add the key'), { ...keys(s), after });
    if (change === 'remove' && after.includes(s.fp))
      throw new ModuleFailure(error.replace('%s', 'the key was not removed'), { ...keys(s), after });
    return { after };
  },
});
