import type { ModuleResult } from '../core/result.js';
import { Raw, sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { ModuleFailure, type ModuleContext } from './types.js';

/**
 * Services on a host that runs systemd, decided as Ansible 2.14's systemd module does (the service module
 * hands systemd hosts to it): `systemctl show` gives the status, `is-enabled` the boot state; then mask,
 * enable, state, in that order. One difference: when the unit changed on disk since systemd loaded it
 * (NeedDaemonReload=yes, or a drop-in added/removed), orch runs daemon-reload once before acting, so a unit
 * file or drop-in written by an earlier task is the one that starts (Ansible 2.14 acts on the stale unit).
 */
export interface SystemdState {
  init: 'systemd';
  /** `systemctl show NAME`, parsed */
  status: Record<string, string>;
  showRc: number;
  /** `systemctl is-enabled NAME` (masked is read from it) */
  isEnabled: { rc: number; out: string };
  /** `systemctl is-enabled NAME -l` (enabled is read from it: an alias is enabled when it lists links) */
  isEnabledFull: { rc: number; out: string };
  /** an /etc/init.d script of that name (Ansible's sysv_exists) */
  initd: boolean;
  /** an /etc/rc?.d/S??NAME link (Ansible's sysv_is_enabled) */
  sysvEnabled: boolean;
  /** the unit's drop-in directories in /etc and /run, and the .conf files in them now */
  dropinDirs: string[];
  dropins: string[];
}

const UNIT_SUFFIX = /\.(service|socket|timer|target|mount|automount|path|slice|scope|swap|device)$/;

const SHOW_RC = '@@orch-show-rc=';
const ENABLED_RC = '@@orch-is-enabled-rc=';
const FULL_RC = '@@orch-is-enabled-l-rc=';

/** The query's systemd branch: everything Ansible's module reads before it acts, in one command. */
export function systemdQuery(name: string): string {
  return (
    sh`systemctl show ${name} 2>/dev/null; echo ${new Raw(SHOW_RC)}$?; ` +
    sh`systemctl is-enabled ${name} 2>/dev/null; echo ${new Raw(ENABLED_RC)}$?; ` +
    sh`systemctl is-enabled ${name} -l 2>/dev/null; echo ${new Raw(FULL_RC)}$?; ` +
    sh`[ -e /etc/init.d/${name} ] && echo @@orch-initd; ls /etc/rc?.d/S??${name} >/dev/null 2>&1 && echo @@orch-sysv-enabled; ` +
    // systemd does not flag a drop-in directory created after it loaded the unit: list them to compare.
    sh`for d in ${dropinDirs(name)}; do echo "@@orch-dropin-dir=$d"; for f in "$d"/*.conf; do [ -e "$f" ] && echo "@@orch-dropin=$f"; done; done; `
  );
}

function dropinDirs(name: string): string[] {
  const unit = UNIT_SUFFIX.test(name) ? name : `${name}.service`;
  return [`/etc/systemd/system/${unit}.d`, `/run/systemd/system/${unit}.d`];
}

/**
 * The unit changed on disk since systemd loaded it: systemd says so (NeedDaemonReload: the fragment or a
 * known drop-in changed), or a drop-in appeared in or vanished from its /etc or /run drop-in directory.
 */
export function unitChangedOnDisk(s: SystemdState): boolean {
  if (s.status.NeedDaemonReload === 'yes') return true;
  if (s.status.LoadState === 'not-found' || s.status.LoadState === undefined) return false;
  const loaded = (s.status.DropInPaths ?? '').split(' ').filter((f) => s.dropinDirs.some((d) => f.startsWith(`${d}/`)));
  return loaded.length !== s.dropins.length || loaded.some((f) => !s.dropins.includes(f));
}

/** Reads the systemd branch's output (after the I=systemd line). */
export function parseSystemdQuery(out: string): SystemdState {
  const lines = out.split('\n');
  const showEnd = lines.findIndex((l) => l.startsWith(SHOW_RC));
  const enabledEnd = lines.findIndex((l) => l.startsWith(ENABLED_RC));
  const fullEnd = lines.findIndex((l) => l.startsWith(FULL_RC));
  const start = lines[0]?.startsWith('I=') ? 1 : 0;
  return {
    init: 'systemd',
    status: parseSystemctlShow(lines.slice(start, showEnd)),
    showRc: Number(lines[showEnd]?.slice(SHOW_RC.length) ?? 1),
    isEnabled: {
      rc: Number(lines[enabledEnd]?.slice(ENABLED_RC.length) ?? 1),
      out: lines.slice(showEnd + 1, enabledEnd).join('\n'),
    },
    isEnabledFull: {
      rc: Number(lines[fullEnd]?.slice(FULL_RC.length) ?? 1),
      out: lines.slice(enabledEnd + 1, fullEnd).join('\n'),
    },
    initd: lines.includes('@@orch-initd'),
    sysvEnabled: lines.includes('@@orch-sysv-enabled'),
    dropinDirs: lines
      .filter((l) => l.startsWith('@@orch-dropin-dir='))
      .map((l) => l.slice('@@orch-dropin-dir='.length)),
    dropins: lines.filter((l) => l.startsWith('@@orch-dropin=')).map((l) => l.slice('@@orch-dropin='.length)),
  };
}

/** Ansible's parse_systemctl_show: Exec* values in braces may span lines. */
export function parseSystemctlShow(lines: string[]): Record<string, string> {
  const parsed: Record<string, string> = {};
  let key: string | undefined;
  let multi: string[] = [];
  for (const line of lines) {
    if (key === undefined) {
      const eq = line.indexOf('=');
      if (eq < 0) continue;
      const k = line.slice(0, eq);
      const v = line.slice(eq + 1);
      if (k.startsWith('Exec') && v.trimStart().startsWith('{') && !v.trimEnd().endsWith('}')) {
        key = k;
        multi = [v];
        continue;
      }
      parsed[k] = v.trim();
    } else {
      multi.push(line);
      if (line.trimEnd().endsWith('}')) {
        parsed[key] = multi.join('\n').trim();
        key = undefined;
        multi = [];
      }
    }
  }
  return parsed;
}

/** Ansible's messages for names it refuses before touching the host. */
export function checkUnitName(name: unknown): void {
  if (typeof name !== 'string') return;
  for (const g of ['*', '?', '[']) {
    if (name.includes(g))
      throw new ModuleFailure(
        `This module does not currently support using glob patterns, found '${g}' in service name: ${name}`,
      );
  }
}

function checkScope(p: Params): void {
  const scope = p.scope ?? 'system';
  if (scope !== 'system')
    throw new ModuleFailure(
      `systemd: scope '${String(scope)}' is not implemented by orch (only system units; user and global units need the user's systemd instance)`,
    );
}

function systemctl(p: Params): string {
  const flags = [p.no_block === true ? ' --no-block' : '', p.force === true ? ' --force' : ''].join('');
  return `systemctl${flags}`;
}

const isRunning = (s: Record<string, string>) => s.ActiveState === 'active' || s.ActiveState === 'activating';

function found(s: SystemdState): { systemd: boolean; any: boolean } {
  const systemd = s.showRc === 0 && s.status.LoadState !== undefined && s.status.LoadState !== 'not-found';
  return { systemd, any: systemd || s.initd };
}

function failIfMissing(s: SystemdState, name: string): void {
  if (!found(s).any) throw new ModuleFailure(`Could not find the requested service ${name}: host`);
}

async function run(ctx: ModuleContext, command: string): Promise<{ rc: number; out: string; err: string }> {
  const r = await ctx.run(command);
  return { rc: r.rc, out: r.stdout, err: r.stderr };
}

/**
 * The systemd module's run on a systemd host. `query` re-reads the unit (after a daemon-reload);
 * `prefetched` is the state read before the task (when no reload happened, it is current).
 */
export async function runSystemd(
  ctx: ModuleContext,
  p: Params,
  prefetched: SystemdState | undefined,
  query: () => Promise<SystemdState>,
): Promise<ModuleResult> {
  checkScope(p);
  checkUnitName(p.name);
  const ctl = systemctl(p);
  const unit = p.name === undefined || p.name === null ? undefined : String(p.name);
  let reloaded = false;
  if (p.daemon_reload === true && !ctx.check) {
    const r = await run(ctx, `${ctl} daemon-reload`);
    if (r.rc !== 0) throw new ModuleFailure(`failure ${r.rc} during daemon-reload: ${r.err}`);
    reloaded = true;
  }
  if (p.daemon_reexec === true && !ctx.check) {
    const r = await run(ctx, `${ctl} daemon-reexec`);
    if (r.rc !== 0) throw new ModuleFailure(`failure ${r.rc} during daemon-reexec: ${r.err}`);
    reloaded = true;
  }
  const result: ModuleResult = { name: unit ?? null, changed: false, status: {} };
  if (unit === undefined) return result;

  let s = !reloaded && prefetched ? prefetched : await query();
  const acts = p.state !== undefined || p.enabled !== undefined || p.masked !== undefined;
  if (acts && unitChangedOnDisk(s) && !ctx.check) {
    const r = await run(ctx, `${ctl} daemon-reload`);
    if (r.rc !== 0) throw new ModuleFailure(`failure ${r.rc} during daemon-reload: ${r.err}`);
    s = await query();
  }
  const f = found(s);
  if (s.showRc === 0 && f.systemd) {
    result.status = s.status;
    if (s.status.LoadState !== 'masked' && s.status.LoadError !== undefined) {
      throw new ModuleFailure(`Error loading unit file '${unit}': ${s.status.LoadError}`);
    }
  } else if (s.showRc === 0) {
    result.status = s.status;
  }
  if (s.initd && !f.systemd)
    ctx.warn(`The service (${unit}) is actually an init script but the system is managed by systemd`);
  const q = sh`${unit}`;

  let isEnabled = s.isEnabledFull;
  if (typeof p.masked === 'boolean') {
    const masked = s.isEnabled.out.trim() === 'masked';
    if (masked !== p.masked) {
      result.changed = true;
      if (!ctx.check) {
        const r = await run(ctx, `${ctl} ${p.masked ? 'mask' : 'unmask'} ${q}`);
        if (r.rc !== 0) failIfMissing(s, unit);
        const again = await run(ctx, `systemctl is-enabled ${q} -l`);
        isEnabled = { rc: again.rc, out: again.out };
      }
    }
  }

  if (typeof p.enabled === 'boolean') {
    failIfMissing(s, unit);
    let enabled = false;
    if (isEnabled.rc === 0) {
      const lines = isEnabled.out.split('\n').filter((l) => l !== '');
      enabled = !(lines.length === 1 && (lines[0] === 'indirect' || lines[0] === 'alias'));
    } else if (isEnabled.rc === 1 && s.initd && !isEnabled.out.trim().endsWith('disabled') && s.sysvEnabled) {
      enabled = true;
    }
    result.enabled = enabled;
    if (enabled !== p.enabled) {
      result.changed = true;
      const action = p.enabled ? 'enable' : 'disable';
      if (!ctx.check) {
        const r = await run(ctx, `${ctl} ${action} ${q}`);
        if (r.rc !== 0) throw new ModuleFailure(`Unable to ${action} service ${unit}: ${r.out}${r.err}`);
      }
      result.enabled = !enabled;
    }
  }

  if (typeof p.state === 'string') {
    failIfMissing(s, unit);
    result.state = p.state;
    const status = result.status as Record<string, string>;
    if (status.ActiveState !== undefined) {
      let action: string | undefined;
      if (p.state === 'started') action = isRunning(status) ? undefined : 'start';
      else if (p.state === 'stopped')
        action = isRunning(status) || status.ActiveState === 'deactivating' ? 'stop' : undefined;
      else {
        action = isRunning(status) ? p.state.slice(0, -2) : 'start';
        result.state = 'started';
      }
      if (action) {
        result.changed = true;
        if (!ctx.check) {
          const r = await run(ctx, `${ctl} ${action} ${q}`);
          if (r.rc !== 0) throw new ModuleFailure(`Unable to ${action} service ${unit}: ${r.err}`);
        }
      }
    } else {
      throw new ModuleFailure('Service is in unknown state', { status });
    }
  }
  return result;
}
