import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { shlexSplit } from './shlex.js';
import { commandFailed, defineStateModule, ModuleFailure, type Module, type ModuleContext } from './types.js';
import { serviceName } from './validate.js';

interface ServiceState {
  init: 'systemd' | 'sysv';
  exists: boolean;
  running: boolean;
  enabled: boolean;
}

interface ServiceChange {
  action?: 'start' | 'stop' | 'restart' | 'reload';
  enable?: boolean;
}

/** One round trip: which init runs the host, whether the service exists, runs, and starts at boot. */
async function queryService(ctx: ModuleContext, p: Params): Promise<ServiceState> {
  const n = serviceName(p.name);
  const r = await ctx.run(
    'if [ -d /run/systemd/system ]; then echo I=systemd; ' +
      sh`systemctl cat ${n} >/dev/null 2>&1 && echo X=1; systemctl is-active --quiet ${n} && echo R=1; systemctl is-enabled --quiet ${n} 2>/dev/null && echo E=1; ` +
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
  const has = (k: string) => r.stdout.includes(`${k}=1`);
  const init = r.stdout.includes('I=systemd') ? 'systemd' : 'sysv';
  // as Ansible's service action, which hands systemd hosts to the systemd module without these
  if (init === 'systemd' && ctx.warn) for (const k of ['pattern', 'sleep', 'arguments'] as const) if (p[k] !== undefined && p[k] !== '') ctx.warn(`Ignoring "${k}" as it is not used in "systemd"`);
  return { init, exists: has('X'), running: has('R'), enabled: has('E') };
}

export function planService(p: Params, s: ServiceState): { changes: ServiceChange; result: Record<string, unknown> } | null {
  checkUse(p);
  if (!s.exists) throw new ModuleFailure(`Could not find the requested service ${String(p.name)}: host`, { hint: 'Install its package first, or check the name.' });
  const c: ServiceChange = {};
  const state = p.state as string | undefined;
  if (state === 'started' && !s.running) c.action = 'start';
  else if (state === 'stopped' && s.running) c.action = 'stop';
  else if (state === 'restarted') c.action = 'restart';
  else if (state === 'reloaded') c.action = s.running ? 'reload' : 'start';
  if (typeof p.enabled === 'boolean' && p.enabled !== s.enabled) c.enable = p.enabled;
  if (!c.action && c.enable === undefined) return null;
  const diff = [];
  if (c.action) diff.push({ path: String(p.name), header: 'state', before: s.running ? 'running' : 'stopped', after: c.action });
  if (c.enable !== undefined) diff.push({ path: String(p.name), header: 'enabled', before: String(s.enabled), after: String(c.enable) });
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
    throw new ModuleFailure(`service: use '${String(p.use)}' is not implemented by orch (auto, systemd, sysvinit or service)`);
  }
}

export const service = defineStateModule<ServiceState, ServiceChange>({
  name: 'service',
  spec: {
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
  },
  query: queryService,
  plan: planService,
  describe: (p, s) => ({ name: p.name, state: s.running ? 'started' : 'stopped', enabled: s.enabled }),
  async apply(ctx, p, c, s) {
    const n = serviceName(p.name);
    const cmds: string[] = [];
    if (s.init === 'systemd') {
      if (p.daemon_reload) cmds.push('systemctl daemon-reload');
      if (c.enable !== undefined) cmds.push(sh`systemctl ${c.enable ? 'enable' : 'disable'} ${n}`);
      if (c.action) cmds.push(sh`systemctl ${c.action} ${n}`);
    } else {
      if (c.enable !== undefined) cmds.push(c.enable ? sh`update-rc.d ${n} defaults >/dev/null && update-rc.d ${n} enable` : sh`update-rc.d ${n} disable`);
      if (c.action) cmds.push(...sysvAction(n, c.action, p));
    }
    const r = await ctx.run(cmds.join(' && '));
    if (r.rc !== 0) throw commandFailed(`service ${n}`, r);
    return { state: c.action === 'stop' ? 'stopped' : 'started' };
  },
});

/**
 * Ansible's systemd takes no name when it only reloads systemd (daemon_reload: handlers do this): then it
 * runs `systemctl daemon-reload` and reports no change. masked/daemon_reexec are not implemented (they fail
 * when reached: the loader knows them from Ansible's list).
 */
export const systemdModule: Module = {
  ...service,
  name: 'systemd',
  spec: {
    ...service.spec,
    params: { ...service.spec.params, name: { type: 'str', support: 'full', aliases: ['service', 'unit'] } },
    requiredOneOf: [['state', 'enabled', 'masked', 'daemon_reload', 'daemon_reexec']],
  },
  query: (ctx, p) => (p.name === undefined ? Promise.resolve(undefined) : (service.query as NonNullable<Module['query']>)(ctx, p)),
  async run(ctx, p) {
    if (p.name !== undefined && (p.state !== undefined || p.enabled !== undefined)) return service.run(ctx, p);
    if (p.name === undefined && (p.state !== undefined || p.enabled !== undefined)) throw new ModuleFailure('systemd: name is required with state or enabled');
    if (p.daemon_reload === true && !ctx.check) {
      const r = await ctx.run('systemctl daemon-reload');
      if (r.rc !== 0) throw commandFailed('systemctl daemon-reload', r);
    }
    return { changed: false, ...(p.name !== undefined ? { name: p.name } : {}) };
  },
};
