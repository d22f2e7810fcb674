import { sh } from '../transport/quote.js';
import { ModuleFailure, type Module } from './types.js';

/** Polls on the host itself in one round trip (bounded by `timeout`). */
export const waitFor: Module = {
  name: 'wait_for',
  spec: {
    params: {
      host: { type: 'str', support: 'full', default: '127.0.0.1' },
      port: { type: 'int', support: 'full' },
      path: { type: 'path', support: 'full' },
      state: {
        type: 'str',
        support: 'full',
        default: 'started',
        choices: ['started', 'stopped', 'present', 'absent', 'drained'],
      },
      timeout: { type: 'int', support: 'full', default: 300 },
      delay: { type: 'int', support: 'full', default: 0 },
      sleep: { type: 'int', support: 'full', default: 1 },
      search_regex: { type: 'str', support: 'full' },
      connect_timeout: { type: 'int', support: 'full', default: 5 },
      msg: { type: 'str', support: 'full' },
    },
    requiredOneOf: [['port', 'path']],
  },
  async run(ctx, p) {
    if (ctx.check) return { changed: false, skipped: true, msg: 'wait_for does not run in check mode' };
    const state = String(p.state);
    const up = state === 'started' || state === 'present';
    let probe: string;
    if (p.port !== undefined) {
      const host = String(p.host);
      if (!/^[A-Za-z0-9_.:-]+$/.test(host) || host.startsWith('-'))
        throw new ModuleFailure(`wait_for: host must be a host name or an IP address, got ${JSON.stringify(host)}`);
      // host and port are arguments of the inner shell, never part of its script
      probe = sh`timeout ${String(p.connect_timeout)} bash -c ${'exec 3<>"/dev/tcp/$1/$2"'} wait_for ${host} ${String(p.port)} 2>/dev/null`;
    } else if (p.search_regex) probe = sh`grep -Eq -e ${String(p.search_regex)} -- ${String(p.path)} 2>/dev/null`;
    else probe = sh`[ -e ${String(p.path)} ]`;
    const script =
      `sleep ${Number(p.delay)}; end=$(( $(date +%s) + ${Number(p.timeout)} )); ` +
      `while :; do if ${probe}; then ok=1; else ok=0; fi; ` +
      `[ $ok = ${up ? 1 : 0} ] && exit 0; [ $(date +%s) -ge $end ] && exit 1; sleep ${Number(p.sleep)}; done`;
    const start = Date.now();
    const r = await ctx.run(script, { timeoutMs: (Number(p.timeout) + Number(p.delay) + 10) * 1000 });
    const elapsed = Math.round((Date.now() - start) / 1000);
    if (r.rc !== 0) {
      const what = p.port !== undefined ? `${String(p.host)}:${String(p.port)}` : String(p.path);
      return {
        changed: false,
        failed: true,
        elapsed,
        msg: String(p.msg ?? `Timeout when waiting for ${what} to be ${state}`),
      };
    }
    return { changed: false, elapsed, state };
  },
};
