import { ModuleFailure, type Module } from './types.js';

/** `ping`: the host answers a command (orch needs no Python on it); `data: crash` fails as Ansible's does. */
export const ping: Module = {
  name: 'ping',
  spec: { params: { data: { type: 'str', support: 'full', default: 'pong' } } },
  async run(ctx, p) {
    if (p.data === 'crash') throw new ModuleFailure('boom');
    const r = await ctx.run('true');
    if (r.rc !== 0) throw new ModuleFailure(`the host did not answer: rc=${r.rc}`);
    return { changed: false, ping: p.data };
  },
};
