import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';
import { debianPackage } from './validate.js';

interface PackageState {
  installed: Map<string, string>; // name → version
  upgradable: Set<string>;
}

interface PackageChange {
  install: string[];
  remove: string[];
}

function names(p: Params): string[] {
  const n = p.name;
  const list = Array.isArray(n) ? n.map(String) : n === undefined || n === null ? [] : String(n).split(',');
  return list
    .map((s) => s.trim())
    .filter((s) => s)
    .map((s) => debianPackage('apt', s));
}

const DPKG_FORMAT = '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n';

/** One round trip: dpkg's view of every named package (and, for latest, apt's candidate). */
async function queryPackages(ctx: ModuleContext, p: Params): Promise<PackageState> {
  const pkgs = names(p).map((n) => n.replace(/[=<>].*$/, ''));
  const latest = p.state === 'latest';
  const cmd =
    sh`dpkg-query -W -f=${DPKG_FORMAT} -- ${pkgs} 2>/dev/null; true` +
    (latest ? sh`; apt-cache policy -- ${pkgs} 2>/dev/null | awk '/^[^ ]/{p=$1} /Installed:/{i=$2} /Candidate:/{if ($2 != i) print "U|" p}'` : '');
  const r = await ctx.run(cmd);
  const installed = new Map<string, string>();
  const upgradable = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('U|')) upgradable.add(line.slice(2).replace(/:$/, ''));
    const [name, version, status] = line.split('\t');
    if (name && status?.startsWith('ii')) installed.set(name.replace(/:.*$/, ''), version ?? '');
  }
  return { installed, upgradable };
}

export function planPackages(p: Params, s: PackageState): { changes: PackageChange; result: Record<string, unknown> } | null {
  const state = String(p.state);
  const list = names(p);
  const base = (n: string) => n.replace(/[=<>].*$/, '');
  const pinned = (n: string) => (n.includes('=') ? s.installed.get(base(n)) === n.split('=')[1] : s.installed.has(base(n)));
  let install: string[] = [];
  let remove: string[] = [];
  if (state === 'present' || state === 'installed') install = list.filter((n) => !pinned(n));
  else if (state === 'latest') install = list.filter((n) => !s.installed.has(base(n)) || s.upgradable.has(base(n)));
  else if (state === 'absent' || state === 'removed') remove = list.filter((n) => s.installed.has(base(n)));
  if (install.length === 0 && remove.length === 0 && !p.update_cache) return null;
  if (install.length === 0 && remove.length === 0) return null;
  return {
    changes: { install, remove },
    result: { diff: [{ path: 'packages', header: 'packages', before: remove.join(' '), after: install.join(' ') }] },
  };
}

const APT_ENV = 'DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a';
const APT_OPTS = '-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold';

export const apt = defineStateModule<PackageState, PackageChange>({
  name: 'apt',
  spec: {
    params: {
      name: { type: 'list', elements: 'str', aliases: ['pkg', 'package'] },
      state: { type: 'str', default: 'present', choices: ['present', 'installed', 'latest', 'absent', 'removed'] },
      update_cache: { type: 'bool', default: false, aliases: ['update-cache'] },
      cache_valid_time: { type: 'int', default: 0 },
      install_recommends: { type: 'bool', aliases: ['install-recommends'] },
      purge: { type: 'bool', default: false },
      autoremove: { type: 'bool', default: false },
      use: { type: 'str' },
    },
    requiredOneOf: [['name', 'update_cache']],
  },
  query: queryPackages,
  plan: planPackages,
  describe: () => ({ cache_updated: false }),
  async apply(ctx, p, c) {
    const cmds: string[] = [];
    if (p.update_cache) cmds.push(`${APT_ENV} apt-get update -q`);
    const rec = p.install_recommends === false ? ' --no-install-recommends' : p.install_recommends === true ? ' --install-recommends' : '';
    if (c.install.length > 0) cmds.push(`${APT_ENV} apt-get install ${APT_OPTS}${rec} -- ${sh`${c.install}`}`);
    if (c.remove.length > 0) cmds.push(`${APT_ENV} apt-get ${p.purge ? 'purge' : 'remove'} ${APT_OPTS} -- ${sh`${c.remove}`}`);
    const r = await ctx.run(cmds.join(' && '));
    if (r.rc !== 0) throw commandFailed('apt-get', r);
    return { stdout: r.stdout, stderr: r.stderr };
  },
});

export const packageModule = { ...apt, name: 'package' };

export function assertApt(p: Params): void {
  if (p.use && p.use !== 'apt' && p.use !== 'auto') throw new ModuleFailure(`package manager '${String(p.use)}' is not supported (apt only)`);
}
