import { GET_URL_PY } from './get-url-script.js';
import { withPathInfo } from './path-info.js';
import { runPython } from './python.js';
import { attributeFixes, statRemote } from './remote-file.js';
import type { Params } from './spec.js';
import { commandFailed, type Module, type ModuleContext } from './types.js';
import { opsCommand } from './file-ops.js';

/**
 * ansible.builtin.get_url: the download runs on the target host, as Ansible's does. It needs python3 there,
 * which is what Ansible needs on every host it manages: curl and wget are not on a minimal Debian 12, and
 * perl's HTTP::Tiny is in perl-modules (not perl-base) and does https only with IO::Socket::SSL installed.
 */

/** Mode, owner and group as Ansible's set_fs_attributes_if_different: changed when any differs. */
async function fixAttributes(ctx: ModuleContext, path: string, p: Params): Promise<boolean> {
  const want = {
    mode: p.mode as string | undefined,
    owner: p.owner as string | undefined,
    group: p.group as string | undefined,
  };
  if (!want.mode && !want.owner && !want.group) return false;
  const fixes = attributeFixes(path, await statRemote(ctx, path), want);
  if (fixes.cmds.length === 0) return false;
  if (!ctx.check) {
    const r = await ctx.run(opsCommand(fixes.ops));
    if (r.rc !== 0) throw commandFailed(`setting attributes of ${path}`, r);
  }
  return true;
}

const PARAMS = [
  'url',
  'dest',
  'force',
  'checksum',
  'use_proxy',
  'validate_certs',
  'timeout',
  'headers',
  'tmp_dest',
  'backup',
  'url_username',
  'url_password',
  'force_basic_auth',
  'http_agent',
  'unredirected_headers',
  'decompress',
  'client_cert',
  'client_key',
  'ciphers',
];

export const getUrl: Module = withPathInfo({
  name: 'get_url',
  spec: {
    params: {
      url: { type: 'str', support: 'full', required: true },
      dest: { type: 'path', support: 'full', required: true },
      checksum: { type: 'str', support: 'full', default: '' },
      force: { type: 'bool', support: 'full', default: false },
      backup: { type: 'bool', support: 'full', default: false },
      timeout: { type: 'int', support: 'full', default: 10 },
      headers: { type: 'dict', support: 'full' },
      tmp_dest: { type: 'path', support: 'full' },
      url_username: { type: 'str', support: 'full', aliases: ['username'] },
      url_password: { type: 'str', support: 'full', aliases: ['password'], noLog: true },
      force_basic_auth: { type: 'bool', support: 'full', default: false },
      validate_certs: { type: 'bool', support: 'full', default: true },
      use_proxy: { type: 'bool', support: 'full', default: true },
      http_agent: { type: 'str', support: 'full', default: 'ansible-httpget' },
      unredirected_headers: { type: 'list', support: 'full', elements: 'str', default: [] },
      decompress: { type: 'bool', support: 'full', default: true },
      client_cert: { type: 'path', support: 'full' },
      client_key: { type: 'path', support: 'full' },
      ciphers: { type: 'list', support: 'full', elements: 'str' },
      use_netrc: { type: 'bool', support: 'partial', default: true, note: '~/.netrc is not read' },
      use_gssapi: { type: 'bool', support: 'none', default: false, note: 'no Kerberos/GSSAPI authentication' },
      mode: { type: 'mode', support: 'full' },
      owner: { type: 'str', support: 'full' },
      group: { type: 'str', support: 'full' },
    },
  },
  async run(ctx, p) {
    const input = Object.fromEntries(PARAMS.map((k) => [k, p[k] ?? null]));
    // no overall limit: timeout is per socket operation, as in Ansible (a task's timeout: keyword bounds the whole)
    const result = await runPython(ctx, 'get_url', GET_URL_PY, { ...input, check: ctx.check });
    const path = result._attrs as string | undefined;
    delete result._attrs;
    if (path !== undefined && (await fixAttributes(ctx, path, p))) {
      if (result.msg === 'file already exists') result.msg = 'file already exists but file attributes changed';
      result.changed = true;
    }
    return result;
  },
});
