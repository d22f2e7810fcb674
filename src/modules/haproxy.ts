import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';
import { singleField } from './validate.js';

/**
 * Drain, disable and enable a server through HAProxy's admin socket (the subset of
 * community.general.haproxy that rolling restarts and deploys need). Talks to the socket with Perl's
 * IO::Socket::UNIX (perl-base), so nothing extra is installed on the load balancer.
 */

export interface ServerStat {
  status: string;
  sessions: number;
}

function socketCommand(socket: string, command: string): string {
  return sh`perl -MIO::Socket::UNIX -e ${'my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "cannot open HAProxy socket $ARGV[0]: $!\\n"; print $s "$ARGV[1]\\n"; print while <$s>;'} ${socket} ${command}`;
}

/** Pure: the row of `show stat` CSV for backend/server. */
export function parseShowStat(csv: string, backend: string, server: string): ServerStat | undefined {
  const lines = csv.split('\n').filter((l) => l.trim());
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const col = (name: string) => header.indexOf(name);
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[col('pxname')] === backend && f[col('svname')] === server)
      return { status: f[col('status')] ?? '', sessions: Number(f[col('scur')] ?? 0) };
  }
  return undefined;
}

async function stat(ctx: ModuleContext, p: Params): Promise<ServerStat> {
  // both go into a line of the admin socket's text protocol: a space or newline would change the command
  singleField('haproxy', 'backend', p.backend);
  singleField('haproxy', 'host', p.host);
  const r = await ctx.run(socketCommand(String(p.socket), 'show stat'));
  if (r.rc !== 0) throw commandFailed('reading HAProxy stats', r);
  const s = parseShowStat(r.stdout, String(p.backend), String(p.host));
  if (!s) throw new ModuleFailure(`HAProxy has no server ${String(p.host)} in backend ${String(p.backend)}`);
  return s;
}

const wanted: Record<string, (status: string) => boolean> = {
  enabled: (s) => !s.startsWith('MAINT') && !s.startsWith('DRAIN'),
  disabled: (s) => s.startsWith('MAINT'),
  drain: (s) => s.startsWith('DRAIN'),
};

export const haproxy = defineStateModule<ServerStat, string[]>({
  name: 'haproxy',
  spec: {
    params: {
      state: { type: 'str', support: 'full', required: true, choices: ['enabled', 'disabled', 'drain'] },
      host: { type: 'str', support: 'full', required: true },
      backend: { type: 'str', support: 'full', required: true },
      socket: { type: 'path', support: 'full', default: '/run/haproxy/admin.sock' },
      shutdown_sessions: { type: 'bool', support: 'full', default: false },
      drain: { type: 'bool', support: 'full', default: false },
      wait: { type: 'bool', support: 'full', default: false },
      wait_interval: { type: 'int', support: 'full', default: 1 },
      wait_retries: { type: 'int', support: 'full', default: 25 },
    },
  },
  query: stat,
  plan(p, s) {
    const state = String(p.state);
    if ((wanted[state] as (x: string) => boolean)(s.status)) return null;
    const target = `${String(p.backend)}/${String(p.host)}`;
    const cmds =
      state === 'enabled'
        ? [`set server ${target} state ready`]
        : state === 'drain'
          ? [`set server ${target} state drain`]
          : [
              ...(p.drain ? [`set server ${target} state drain`] : []),
              `set server ${target} state maint`,
              ...(p.shutdown_sessions ? [`shutdown sessions server ${target}`] : []),
            ];
    return {
      changes: cmds,
      result: { diff: [{ path: target, header: 'haproxy state', before: s.status, after: state }] },
    };
  },
  describe: (_p, s) => ({ status: s.status, sessions: s.sessions }),
  async apply(ctx, p, cmds) {
    for (const c of cmds) {
      const r = await ctx.run(socketCommand(String(p.socket), c));
      if (r.rc !== 0 || /unknown|not found|denied/i.test(r.stdout))
        throw commandFailed(`HAProxy "${c}"`, { ...r, rc: r.rc || 1 });
    }
    if (!p.wait) return {};
    // Draining is only done when no session is left: never carry on as if drained.
    const state = String(p.state);
    const retries = Number(p.wait_retries);
    let last = await stat(ctx, p);
    for (let i = 0; i < retries; i++) {
      const inState = (wanted[state] as (x: string) => boolean)(last.status);
      if (inState && (state === 'enabled' || last.sessions === 0))
        return { status: last.status, sessions: last.sessions };
      await ctx.run(`sleep ${Number(p.wait_interval)}`);
      last = await stat(ctx, p);
    }
    throw new ModuleFailure(
      `${String(p.backend)}/${String(p.host)} did not reach ${state} with no sessions after ${retries} checks (status ${last.status}, ${last.sessions} sessions)`,
    );
  },
});
