import type { Module } from './types.js';

export interface ServiceFact {
  name: string;
  state: string;
  status?: string;
  source: 'systemd' | 'sysv';
}

/** `service_facts`: systemd's units where systemd runs, else `service --status-all` (sysv), as Ansible does. */
export const serviceFacts: Module = {
  name: 'service_facts',
  gathersFacts: true,
  spec: { params: {} },
  async run(ctx) {
    const r = await ctx.run(
      'if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then echo "@systemd"; systemctl list-units --no-pager --no-legend --type service --all --plain; echo "@files"; systemctl list-unit-files --no-pager --no-legend --type service; else echo "@sysv"; service --status-all 2>&1; fi',
    );
    return { changed: false, ansible_facts: { services: parseServices(r.stdout) } };
  },
};

export function parseServices(out: string): Record<string, ServiceFact> {
  const services: Record<string, ServiceFact> = {};
  let part = '';
  for (const line of out.split('\n')) {
    if (line.startsWith('@')) {
      part = line.slice(1);
      continue;
    }
    if (part === 'sysv') {
      // " [ + ]  cron": running, [ - ] stopped, [ ? ] unknown
      const m = /^\s*\[\s*([+?-])\s*\]\s+(\S+)/.exec(line);
      if (m)
        services[m[2] ?? ''] = {
          name: m[2] ?? '',
          state: m[1] === '+' ? 'running' : m[1] === '-' ? 'stopped' : 'unknown',
          source: 'sysv',
        };
    } else if (part === 'systemd') {
      // "cron.service loaded active running Regular background program processing daemon"
      const [unit, load, , sub] = line.trim().split(/\s+/);
      if (!unit?.endsWith('.service') || load === 'not-found') continue;
      const state =
        sub === 'running'
          ? 'running'
          : sub === 'exited' || sub === 'dead' || sub === 'failed'
            ? sub === 'failed'
              ? 'failed'
              : 'stopped'
            : 'unknown';
      services[unit] = { name: unit, state, status: 'unknown', source: 'systemd' };
    } else if (part === 'files') {
      const [unit, status] = line.trim().split(/\s+/);
      if (!unit?.endsWith('.service') || status === undefined) continue;
      const known = services[unit];
      if (known) known.status = status;
      else services[unit] = { name: unit, state: 'stopped', status, source: 'systemd' };
    }
  }
  return services;
}
