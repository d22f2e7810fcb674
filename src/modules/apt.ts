import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';
import { debianPackage } from './validate.js';
import { debInstallScript, debQueryScript, debSources, debsToInstall, parseDebs, type DebFile } from './apt-deb.js';
import {
  aptOptionParams,
  commonOptions,
  installFlags,
  upgradeCommand,
  upgradeMode,
  withPolicyRcD,
} from './apt-options.js';

export interface PackageState {
  installed: Map<string, string>; // name → version
  upgradable: Set<string>;
  /**
   * with update_cache/cache_valid_time: the cache's mtime (as Ansible: the update-success stamp, else the lists dir)
   * and the host's clock
   */
  cacheTime?: number;
  now?: number;
  /** with autoremove and no package: how many packages `apt-get autoremove` would remove */
  autoremovable?: number;
  /** with upgrade: whether apt-get's simulation upgrades anything */
  upgradePending?: boolean;
  /** with deb: each file's package and version, and the version installed */
  debs?: DebFile[];
}

export interface PackageChange {
  install: string[];
  remove: string[];
  update: boolean;
  autoremove: boolean;
  upgrade?: string;
  debs?: string[];
}

const STAMP = '/var/lib/apt/periodic/update-success-stamp';
const LISTS = '/var/lib/apt/lists';

function wantsUpdate(p: Params): boolean {
  return p.update_cache === true || (typeof p.cache_valid_time === 'number' && p.cache_valid_time > 0);
}

function names(p: Params): string[] {
  const n = p.name;
  const list = Array.isArray(n) ? n.map(String) : n === undefined || n === null ? [] : String(n).split(',');
  return list
    .map((s) => s.trim())
    .filter((s) => s && s !== '*')
    .map((s) => debianPackage('apt', s));
}

const DPKG_FORMAT = '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n';

/** One round trip: dpkg's view of every named package (and, for latest, apt's candidate). */
async function queryPackages(ctx: ModuleContext, p: Params): Promise<PackageState> {
  assertApt(p);
  const pkgs = names(p).map((n) => n.replace(/[=<>].*$/, ''));
  const latest = p.state === 'latest';
  const cmd =
    sh`dpkg-query -W -f=${DPKG_FORMAT} -- ${pkgs} 2>/dev/null; true` +
    (latest
      ? `; apt-cache${release(p)} policy -- ${sh`${pkgs}`} 2>/dev/null | awk '/^[^ ]/{p=$1} /Installed:/{i=$2} /Candidate:/{if ($2 != i) print "U|" p}'`
      : '') +
    (wantsUpdate(p)
      ? sh`; echo "T|$(stat -c %Y -- ${STAMP} 2>/dev/null || stat -c %Y -- ${LISTS} 2>/dev/null || echo 0)|$(date +%s)"`
      : '') +
    (p.autoremove === true && pkgs.length === 0 && !upgradeMode(p)
      ? `; echo "R|$(apt-get -s -q autoremove 2>/dev/null | grep -c '^Remv ')"`
      : '') +
    (debSources(p).length > 0 ? `; ${debQueryScript(debSources(p))}` : '') +
    (upgradeMode(p)
      ? `; LANG=C apt-get -s ${commonOptions(p)}${installFlags(p)}${release(p)} ${upgradeCommand(upgradeMode(p) as string, p)} 2>/dev/null | grep -q '^0 upgraded, 0 newly installed' || echo UPG`
      : '');
  const r = await ctx.run(cmd);
  const installed = new Map<string, string>();
  const upgradable = new Set<string>();
  let cacheTime: number | undefined;
  let now: number | undefined;
  let autoremovable: number | undefined;
  let upgradePending = false;
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('U|')) upgradable.add(line.slice(2).replace(/:$/, ''));
    const t = /^T\|(\d+)\|(\d+)$/.exec(line);
    if (t) {
      cacheTime = Number(t[1]);
      now = Number(t[2]);
    }
    const rm = /^R\|(\d+)$/.exec(line);
    if (rm) autoremovable = Number(rm[1]);
    if (line === 'UPG') upgradePending = true;
    const [name, version, status] = line.split('\t');
    if (name && status?.startsWith('ii')) installed.set(name.replace(/:.*$/, ''), version ?? '');
  }
  const debs = debSources(p).length > 0 ? parseDebs(debSources(p), r.stdout) : undefined;
  return { installed, upgradable, cacheTime, now, autoremovable, upgradePending, debs };
}

export function planPackages(
  p: Params,
  s: PackageState,
): { changes: PackageChange; result: Record<string, unknown> } | null {
  const state = String(p.state);
  const list = names(p);
  const base = (n: string) => n.replace(/[=<>].*$/, '');
  const pinned = (n: string) =>
    n.includes('=') ? s.installed.get(base(n)) === n.split('=')[1] : s.installed.has(base(n));
  let install: string[] = [];
  let remove: string[] = [];
  if (state === 'present' || state === 'installed')
    install = list.filter((n) => !pinned(n) && (p.only_upgrade !== true || s.installed.has(base(n))));
  else if (state === 'latest')
    install = list.filter((n) => (!s.installed.has(base(n)) && p.only_upgrade !== true) || s.upgradable.has(base(n)));
  else if (state === 'absent' || state === 'removed') remove = list.filter((n) => s.installed.has(base(n)));
  // Ansible: the cache is updated unless it is younger than cache_valid_time (0: always)
  const valid = typeof p.cache_valid_time === 'number' ? p.cache_valid_time : 0;
  const update =
    wantsUpdate(p) && !(valid > 0 && s.cacheTime !== undefined && s.now !== undefined && s.cacheTime + valid >= s.now);
  // autoremove with packages rides on their apt-get command (--auto-remove); alone, it is `apt-get autoremove`
  const autoremove = p.autoremove === true && list.length === 0 && !wantsUpdate(p) && (s.autoremovable ?? 0) > 0;
  // upgrade (exclusive with packages): Ansible updates the cache, then upgrades, and reports the upgrade alone
  const mode = upgradeMode(p);
  if (mode)
    return update || s.upgradePending
      ? { changes: { install, remove, update, autoremove: false, upgrade: mode }, result: {} }
      : null;
  const debs = debsToInstall(s.debs ?? []);
  if (debs.length > 0) return { changes: { install, remove, update, autoremove, debs }, result: {} };
  if (install.length === 0 && remove.length === 0 && !update && !autoremove) return null;
  const diff =
    install.length > 0 || remove.length > 0
      ? [{ path: 'packages', header: 'packages', before: remove.join(' '), after: install.join(' ') }]
      : [];
  return { changes: { install, remove, update, autoremove }, result: { diff } };
}

export const APT_ENV = 'DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a';

export const apt = defineStateModule<PackageState, PackageChange>({
  name: 'apt',
  spec: {
    params: {
      name: { type: 'list', support: 'full', elements: 'str', aliases: ['pkg', 'package'] },
      state: {
        type: 'str',
        support: 'full',
        default: 'present',
        choices: ['present', 'installed', 'latest', 'absent', 'removed'],
      },
      update_cache: { type: 'bool', support: 'full', default: false, aliases: ['update-cache'] },
      cache_valid_time: { type: 'int', support: 'full', default: 0 },
      install_recommends: { type: 'bool', support: 'full', aliases: ['install-recommends'] },
      purge: { type: 'bool', support: 'full', default: false },
      autoremove: { type: 'bool', support: 'full', default: false },
      use: { type: 'str', support: 'partial', note: 'apt or auto only' },
      default_release: { type: 'str', support: 'full', aliases: ['default-release'] },
      ...aptOptionParams,
      deb: {
        type: 'path',
        support: 'full',
        note: 'installed with apt-get (dependencies from the archive) rather than dpkg -i',
      },
    },
    requiredOneOf: [['name', 'update_cache', 'autoremove', 'upgrade', 'deb']],
    mutuallyExclusive: [['deb', 'name', 'upgrade']],
  },
  query: queryPackages,
  plan: planPackages,
  describe: (p, s) => ({
    cache_updated: false,
    ...(wantsUpdate(p) && s.cacheTime !== undefined ? { cache_update_time: s.cacheTime } : {}),
  }),
  async apply(ctx, p, c, s) {
    const out: Record<string, unknown> = {};
    let changed = c.install.length > 0 || c.remove.length > 0;
    if (c.update) {
      // --error-on=any: a source that cannot be fetched fails the task, as python-apt's update() does in Ansible
      const u = await ctx.run(
        `${APT_ENV} apt-get update -q --error-on=any` +
          sh` && echo "T|$(stat -c %Y -- ${STAMP} 2>/dev/null || stat -c %Y -- ${LISTS})"`,
      );
      if (u.rc !== 0) throw commandFailed('Failed to update apt cache: apt-get update', u);
      // as Ansible: the cache counts as updated when its timestamp moved
      const after = Number(/^T\|(\d+)$/m.exec(u.stdout)?.[1] ?? 0);
      out.cache_updated = after !== s.cacheTime;
      out.cache_update_time = after;
      if (out.cache_updated) changed = true;
    }
    const rec =
      p.install_recommends === false
        ? ' --no-install-recommends'
        : p.install_recommends === true
          ? ' --install-recommends'
          : '';
    const auto = p.autoremove === true ? ' --auto-remove' : '';
    const opts = commonOptions(p);
    if (c.upgrade) {
      const what = upgradeCommand(c.upgrade, p);
      const r = await ctx.run(
        withPolicyRcD(p, `${APT_ENV} LANG=C apt-get ${opts}${installFlags(p)}${release(p)} ${what}`),
      );
      if (r.rc !== 0) throw new ModuleFailure(`'apt-get ${what}' failed: ${r.stderr}`, { stdout: r.stdout, rc: r.rc });
      return {
        msg: r.stdout,
        stdout: r.stdout,
        stderr: r.stderr,
        changed: !r.stdout.includes('\n0 upgraded, 0 newly installed'),
      };
    }
    const cmds: string[] = [];
    if (c.debs && c.debs.length > 0) {
      const r = await ctx.run(
        withPolicyRcD(
          p,
          `(\n${debInstallScript(c.debs, `${APT_ENV} apt-get install ${opts}${rec}${installFlags(p)}`)}\n)`,
        ),
      );
      if (r.rc !== 0) throw commandFailed('apt-get install (deb)', r);
      out.stdout = r.stdout;
      out.stderr = r.stderr;
      changed = true;
    }
    if (c.install.length > 0)
      cmds.push(
        `${APT_ENV} apt-get install ${opts}${rec}${auto}${installFlags(p)}${release(p)} -- ${sh`${c.install}`}`,
      );
    if (c.remove.length > 0)
      cmds.push(`${APT_ENV} apt-get ${p.purge ? 'purge' : 'remove'} ${opts}${auto} -- ${sh`${c.remove}`}`);
    if (c.autoremove) cmds.push(`${APT_ENV} apt-get ${opts}${p.purge ? ' --purge' : ''} autoremove`);
    if (cmds.length > 0) {
      const r = await ctx.run(withPolicyRcD(p, cmds.join(' && ')));
      if (r.rc !== 0) throw commandFailed('apt-get', r);
      out.stdout = r.stdout;
      out.stderr = r.stderr;
      if (c.autoremove && /The following packages will be REMOVED/.test(r.stdout)) changed = true;
    }
    return { ...out, changed };
  },
});

/** default_release: apt-get -t (the release pinned at 990 for this command, as Ansible passes it). */
function release(p: Params): string {
  return typeof p.default_release === 'string' && p.default_release !== '' ? sh` -t ${p.default_release}` : '';
}

export const packageModule = { ...apt, name: 'package' };

/** `use` is accepted as apt or auto only (the parameter's support is partial): other managers fail when reached. */
function assertApt(p: Params): void {
  if (p.use && p.use !== 'apt' && p.use !== 'auto')
    throw new ModuleFailure(`package manager '${String(p.use)}' is not supported (apt only)`);
}
