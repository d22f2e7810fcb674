import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { shlexSplit } from './shlex.js';
import { checkUnitName, parseSystemdQuery, runSystemd, systemdQuery, type SystemdState } from './systemd.js';
import type { ModuleResult } from '../core/result.js';
import { commandFailed, ModuleFailure, type Module, type ModuleContext } from './types.js';
import { serviceName } from './validate.js';

interface ServiceState {
  init: 'sysv';
  exists: boolean;
  running: boolean;
  enabled: boolean;
}

type HostServiceState = ServiceState | SystemdState;

interface ServiceChange {
  action?: 'start' | 'stop' | 'restart' | 'reload';
  enable?: boolean;
}

/**
 * One round trip: which init runs the host; under systemd what Ansible's systemd module reads (see
 * systemd.ts), else whether the init script exists, runs, and starts at boot.
 */
async function queryService(ctx: ModuleContext, p: Params): Promise<HostServiceState> {
  checkUnitName(p.name);
  const n = serviceName(p.name);
  const r = await ctx.run(
    'if [ -d /run/systemd/system ]; then echo I=systemd; ' +
      systemdQuery(n) +
      'else echo I=sysv; ' +
      (typeof p.pattern === 'string'
        ? // Some init scripts answer `status` wrongly; a process pattern is asked for then (as Ansible's
          // `pattern`). It comes on stdin: in a command line it would match the shell asking.
          sh`if [ -x /etc/init.d/${n} ]; then echo X=1; pgrep -f -- "$(cat)" >/dev/null && echo R=1; fi; `
        : sh`if [ -x /etc/init.d/${n} ]; then echo X=1; /etc/init.d/${n} status ${serviceArgs(p)} >/dev/null 2>&1 && echo R=1; fi; `) +
      sh`ls /etc/rc2.d/S[0-9][0-9]${n} >/dev/null 2>&1 && echo E=1; ` +
      'fi; true',
    { stdin: typeof p.pattern === 'string' ? p.pattern : '' },
  );
  if (r.stdout.startsWith('I=systemd')) return parseSystemdQuery(r.stdout);
  const has = (k: string) => r.stdout.includes(`${k}=1`);
  return { init: 'sysv', exists: has('X'), running: has('R'), enabled: has('E') };
}

export function planService(
  p: Params,
  s: ServiceState,
): { changes: ServiceChange; result: Record<string, unknown> } | null {
  checkUse(p);
  if (!s.exists)
    throw new ModuleFailure(`Could not find the requested service ${String(p.name)}: host`, {
      hint: 'Install its package first, or check the name.',
    });
  const c: ServiceChange = {};
  const state = p.state as string | undefined;
  if (state === 'started' && !s.running) c.action = 'start';
  else if (state === 'stopped' && s.running) c.action = 'stop';
  else if (state === 'restarted') c.action = 'restart';
  else if (state === 'reloaded') c.action = s.running ? 'reload' : 'start';
  if (typeof p.enabled === 'boolean' && p.enabled !== s.enabled) c.enable = p.enabled;
  if (!c.action && c.enable === undefined) return null;
  const diff = [];
  if (c.action)
    diff.push({ path: String(p.name), header: 'state', before: s.running ? 'running' : 'stopped', after: c.action });
  if (c.enable !== undefined)
    diff.push({ path: String(p.name), header: 'enabled', before: String(s.enabled), after: String(c.enable) });
  return { changes: c, result: { diff } };
}

/** `arguments`, as shell words (Ansible appends them to every init script call, status included). */
function serviceArgs(p: Params): string[] {
  return typeof p.arguments === 'string' && p.arguments.trim() !== '' ? shlexSplit(p.arguments) : [];
}

/** Detach the daemon's descriptors from our channel, or the exec waits for it to exit. */
function initScript(n: string, action: string, args: string[], tolerate = false): string {
  const onError = tolerate ? 'true' : '{ rc=$?; cat "$log" >&2; rm -f "$log"; exit $rc; }';
  return sh`log=$(mktemp); /etc/init.d/${n} ${action} ${args} </dev/null >"$log" 2>&1 || ` + `${onError}; rm -f "$log"`;
}

/**
 * SysV as Ansible's service module does it: `arguments` (split as shell words) after the action; a restart
 * is stop, `sleep` seconds, start (a failing stop does not fail it when start works).
 */
function sysvAction(n: string, action: string, p: Params): string[] {
  const args = serviceArgs(p);
  if (action !== 'restart') return [initScript(n, action, args)];
  const sleep = typeof p.sleep === 'number' && p.sleep > 0 ? [sh`sleep ${p.sleep}`] : [];
  return [`{ ${initScript(n, 'stop', args, true)}; }`, ...sleep, initScript(n, 'start', args)];
}

/** `use`: orch detects systemd or SysV init itself; another manager is refused, not silently replaced. */
function checkUse(p: Params): void {
  if (p.use !== undefined && !['auto', 'systemd', 'sysvinit', 'service'].includes(String(p.use))) {
    throw new ModuleFailure(
      `service: use '${String(p.use)}' is not implemented by orch (auto, systemd, sysvinit or service)`,
    );
  }
}

const SERVICE_SPEC: Module['spec'] = {
  params: {
    name: { type: 'str', support: 'full', required: true },
    state: { type: 'str', support: 'full', choices: ['started', 'stopped', 'restarted', 'reloaded'] },
    enabled: { type: 'bool', support: 'full' },
    daemon_reload: { type: 'bool', support: 'full', default: false },
    use: { type: 'str', support: 'partial', note: 'auto, systemd or sysvinit (orch detects systemd or SysV init)' },
    pattern: { type: 'str', support: 'full' },
    sleep: { type: 'int', support: 'full' },
    arguments: { type: 'str', support: 'full', aliases: ['args'] },
  },
  requiredOneOf: [['state', 'enabled']],
};

/** An init.d host: plan, then the init script and update-rc.d (as Ansible's service module on SysV). */
async function runSysv(ctx: ModuleContext, p: Params, s: ServiceState): Promise<ModuleResult> {
  const base = { name: p.name, state: s.running ? 'started' : 'stopped', enabled: s.enabled };
  const planned = planService(p, s);
  if (!planned) return { changed: false, ...base };
  const result: ModuleResult = { ...base, ...planned.result, changed: true };
  if (!ctx.diff) delete result.diff;
  if (ctx.check) return result;
  const n = serviceName(p.name);
  const c = planned.changes;
  const cmds: string[] = [];
  if (c.enable !== undefined)
    cmds.push(
      c.enable ? sh`update-rc.d ${n} defaults >/dev/null && update-rc.d ${n} enable` : sh`update-rc.d ${n} disable`,
    );
  if (c.action) cmds.push(...sysvAction(n, c.action, p));
  const r = await ctx.run(cmds.join(' && '));
  if (r.rc !== 0) throw commandFailed(`service ${n}`, r);
  return { ...result, state: c.action === 'stop' ? 'stopped' : 'started' };
}

async function requery(ctx: ModuleContext, p: Params): Promise<SystemdState> {
  const r = await ctx.run(`echo I=systemd; ${systemdQuery(serviceName(p.name))}`);
  return parseSystemdQuery(r.stdout);
}

export const service: Module = {
  name: 'service',
  spec: SERVICE_SPEC,
  query: queryService,
  async run(ctx, p) {
    checkUse(p);
    const s = await queryService(ctx, p);
    if (s.init === 'sysv') return runSysv(ctx, p, s);
    // Ansible's service action hands systemd hosts to the systemd module, dropping what it does not take.
    for (const k of ['pattern', 'sleep', 'arguments'] as const)
      if (p[k] !== undefined && p[k] !== '') ctx.warn(`Ignoring "${k}" as it is not used in "systemd"`);
    const { pattern: _p, sleep: _s, arguments: _a, use: _u, ...rest } = p;
    return runSystemd(ctx, rest, s, () => requery(ctx, p));
  },
};

/**
 * Ansible's systemd module. On a host without systemd running (init.d lab hosts) it acts as the service
 * module there does; without a name it only reloads/re-executes systemd.
 */
/**
 * The systemd module where systemctl is installed but systemd does not run (a container, an init.d host):
 * Ansible warns, sets masked and enabled through systemctl's offline mode (it edits the unit links) and
 * leaves the state alone.
 */
async function runSystemdOffline(ctx: ModuleContext, p: Params): Promise<ModuleResult> {
  const unit = String(p.name);
  checkUnitName(unit);
  ctx.warn(
    'Target is a chroot or systemd is offline. This can lead to false positives or prevent the init system tools from working.',
  );
  const r = await ctx.run(sh`systemctl is-enabled -- ${unit} 2>/dev/null; true`);
  const now = r.stdout.trim().split('\n')[0] ?? '';
  const cmds: string[] = [];
  if (p.masked !== undefined && now.startsWith('masked') !== p.masked)
    cmds.push(sh`systemctl ${p.masked ? 'mask' : 'unmask'} -- ${unit}`);
  const enabledNow = now === 'enabled' || now === 'enabled-runtime' || now === 'static' || now === 'alias';
  if (p.enabled !== undefined && p.masked !== true && enabledNow !== p.enabled)
    cmds.push(sh`systemctl ${p.enabled ? 'enable' : 'disable'} -- ${unit}`);
  if (cmds.length > 0 && !ctx.check) {
    const w = await ctx.run(cmds.join(' && '));
    if (w.rc !== 0) throw commandFailed(`systemctl (offline) for ${unit}`, w);
  }
  return {
    changed: cmds.length > 0,
    name: unit,
    ...(p.state !== undefined ? { state: p.state } : {}),
    ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
    status: {},
  };
}

export const systemdModule: Module = {
  name: 'systemd',
  spec: {
    params: {
      name: { type: 'str', support: 'full', aliases: ['service', 'unit'] },
      state: { type: 'str', support: 'full', choices: ['started', 'stopped', 'restarted', 'reloaded'] },
      enabled: { type: 'bool', support: 'full' },
      masked: { type: 'bool', support: 'full' },
      daemon_reload: { type: 'bool', support: 'full', default: false, aliases: ['daemon-reload'] },
      daemon_reexec: { type: 'bool', support: 'full', default: false, aliases: ['daemon-reexec'] },
      scope: {
        type: 'str',
        support: 'partial',
        default: 'system',
        choices: ['system', 'user', 'global'],
        note: 'system only: user and global fail when reached',
      },
      no_block: { type: 'bool', support: 'full', default: false },
      force: { type: 'bool', support: 'full' },
    },
    requiredOneOf: [['state', 'enabled', 'masked', 'daemon_reload', 'daemon_reexec']],
  },
  query: (ctx, p) => (p.name === undefined || p.name === null ? Promise.resolve(undefined) : queryService(ctx, p)),
  async run(ctx, p) {
    for (const k of ['state', 'enabled', 'masked'] as const) {
      if (p[k] !== undefined && (p.name === undefined || p.name === null))
        throw new ModuleFailure(`missing parameter(s) required by '${k}': name`);
    }
    if (p.name === undefined || p.name === null) return runSystemd(ctx, p, undefined, () => requery(ctx, p));
    const s = await queryService(ctx, p);
    if (s.init === 'sysv') {
      if (p.daemon_reexec === true) throw new ModuleFailure('systemd: daemon_reexec needs a host that runs systemd');
      // a systemd unit (not an init.d service), or masked: systemctl's offline mode, as Ansible's systemd module
      if (p.masked !== undefined || !s.exists) return runSystemdOffline(ctx, p);
      if (p.state === undefined && p.enabled === undefined) return { changed: false, name: p.name };
      return runSysv(ctx, p, s);
    }
    return runSystemd(ctx, p, s, () => requery(ctx, p));
  },
};
