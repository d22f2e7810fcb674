import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { writeRemote } from './remote-file.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type Module, type ModuleContext } from './types.js';

// ansible.builtin.hostname (2.14) on Linux: hostnamectl when systemd runs (/run/systemd/system), else
// Debian's FileStrategy: /etc/hostname only (Ansible does not run `hostname` there; the running name
// is taken to be the file's). `use: alpine` also runs `hostname -F /etc/hostname`.

export interface HostnameState {
  strategy: 'systemd' | 'file' | 'alpine';
  current: string;
  permanent: string;
  fqdn: string;
}

const STRATEGIES: Record<string, HostnameState['strategy'] | undefined> = {
  debian: 'systemd',
  systemd: 'systemd',
  alpine: 'alpine',
};

async function queryHostname(ctx: ModuleContext, p: Params): Promise<HostnameState> {
  const name = String(p.name);
  if (name === '' || /[\x00-\x1f\x7f\s]/.test(name) || name.startsWith('-'))
    throw new ModuleFailure(`invalid host name ${JSON.stringify(name)}`);
  let strategy: HostnameState['strategy'] = 'file';
  if (typeof p.use === 'string') {
    const s = STRATEGIES[p.use];
    if (!s)
      throw new ModuleFailure(`hostname: use=${p.use} is not supported by orch (supported: debian, systemd, alpine)`);
    strategy = s;
  }
  const script = [
    typeof p.use === 'string' ? '' : '[ -d /run/systemd/system ] && echo SYSTEMD',
    '[ -f /etc/hostname ] && { printf "FILE|"; base64 -w0 < /etc/hostname; echo; }',
    'printf "FQDN|%s\\n" "$(hostname -f 2>/dev/null || hostname)"',
  ].join('\n');
  const r = await ctx.run(script);
  if (r.rc !== 0) throw commandFailed('reading the host name', r);
  if (/^SYSTEMD$/m.test(r.stdout)) strategy = 'systemd';
  const fqdn = /^FQDN\|(.*)$/m.exec(r.stdout)?.[1] ?? '';
  if (strategy === 'systemd') {
    const q = await ctx.run('hostnamectl --transient status && echo @ && hostnamectl --static status');
    if (q.rc !== 0) throw new ModuleFailure(`Command failed rc=${q.rc}, out=${q.stdout}, err=${q.stderr}`);
    const [cur = '', perm = ''] = q.stdout.split('\n@\n');
    return { strategy, current: cur.trim(), permanent: perm.trim(), fqdn };
  }
  const file = /^FILE\|(.*)$/m.exec(r.stdout)?.[1];
  const permanent = file === undefined ? '' : Buffer.from(file, 'base64').toString('utf8').trim();
  return { strategy, current: permanent, permanent, fqdn };
}

function facts(name: string, fqdn: string): Record<string, unknown> {
  return {
    ansible_hostname: name.split('.')[0],
    ansible_nodename: name,
    ansible_fqdn: fqdn,
    ansible_domain: fqdn.split('.').slice(1).join('.'),
  };
}

/** Pure: what to set (current = the running name, permanent = the stored one), and Ansible's before name. */
export function planHostname(
  name: string,
  s: HostnameState,
): { current: boolean; permanent: boolean; before: string } | null {
  const current = s.current !== name;
  const permanent = s.permanent !== name;
  if (!current && !permanent) return null;
  return { current, permanent, before: current ? s.current : s.permanent };
}

const inner = defineStateModule<HostnameState, { current: boolean; permanent: boolean }>({
  name: 'hostname',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true },
      use: {
        type: 'str',
        support: 'full',
        choices: [
          'alpine',
          'debian',
          'freebsd',
          'generic',
          'macos',
          'macosx',
          'darwin',
          'openbsd',
          'openrc',
          'redhat',
          'sles',
          'solaris',
          'systemd',
        ],
      },
    },
  },
  query: queryHostname,
  describe: (p, s) => ({ name: p.name, ansible_facts: facts(String(p.name), s.fqdn) }),
  plan(p, s) {
    const name = String(p.name);
    const planned = planHostname(name, s);
    if (!planned) return null;
    const result: Partial<ModuleResult> = {
      diff: [{ path: 'hostname', before: `hostname = ${planned.before}\n`, after: `hostname = ${name}\n` }],
    };
    return { changes: planned, result };
  },
  async apply(ctx, p, c, s) {
    const name = String(p.name);
    const run = async (cmd: string) => {
      const r = await ctx.run(cmd);
      if (r.rc !== 0) throw new ModuleFailure(`Command failed rc=${r.rc}, out=${r.stdout}, err=${r.stderr}`);
    };
    if (s.strategy === 'systemd') {
      if (name.length > 64)
        throw new ModuleFailure('name cannot be longer than 64 characters on systemd servers, try a shorter name');
      if (c.permanent) await run(sh`hostnamectl --pretty --static set-hostname ${name}`);
      if (c.current) await run(sh`hostnamectl --transient set-hostname ${name}`);
      return;
    }
    if (c.permanent) await writeRemote(ctx, '/etc/hostname', `${name}\n`);
    if (s.strategy === 'alpine' && c.current) await run('hostname -F /etc/hostname');
  },
});

export const hostname: Module = { ...inner, gathersFacts: true };
