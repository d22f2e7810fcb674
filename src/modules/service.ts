import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';
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
        : sh`if [ -x /etc/init.d/${n} ]; then echo X=1; /etc/init.d/${n} status >/dev/null 2>&1 && echo R=1; fi; `) +
      sh`ls /etc/rc2.d/S[0-9][0-9]${n} >/dev/null 2>&1 && echo E=1; ` +
      'fi; true',
    { stdin: typeof p.pattern === 'string' ? p.pattern : '' },
  );
  const has = (k: string) => r.stdout.includes(`${k}=1`);
  return { init: r.stdout.includes('I=systemd') ? 'systemd' : 'sysv', exists: has('X'), running: has('R'), enabled: has('E') };
}

export function planService(p: Params, s: ServiceState): { changes: ServiceChange; result: Record<string, unknown> } | null {
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

export const service = defineStateModule<ServiceState, ServiceChange>({
  name: 'service',
  spec: {
    params: {
      name: { type: 'str', required: true },
      state: { type: 'str', choices: ['started', 'stopped', 'restarted', 'reloaded'] },
      enabled: { type: 'bool' },
      daemon_reload: { type: 'bool', default: false },
      use: { type: 'str' },
      pattern: { type: 'str' },
      sleep: { type: 'int' },
      arguments: { type: 'str', aliases: ['args'] },
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
      // Detach the daemon's descriptors from our channel, or the exec waits for it to exit.
      if (c.action) cmds.push(sh`log=$(mktemp); /etc/init.d/${n} ${c.action} </dev/null >"$log" 2>&1 || { rc=$?; cat "$log" >&2; rm -f "$log"; exit $rc; }; rm -f "$log"`);
    }
    const r = await ctx.run(cmds.join(' && '));
    if (r.rc !== 0) throw commandFailed(`service ${n}`, r);
    return { state: c.action === 'stop' ? 'stopped' : 'started' };
  },
});

export const systemdModule = { ...service, name: 'systemd' };
