import { sh } from '../transport/quote.js';
import { ModuleFailure, type Module } from './types.js';

export const slurp: Module = {
  name: 'slurp',
  spec: { params: { src: { type: 'path', support: 'full', required: true, aliases: ['path'] } } },
  async run(ctx, p) {
    const r = await ctx.run(sh`base64 -w0 < ${String(p.src)}`);
    if (r.rc !== 0) throw new ModuleFailure(`file not found or unreadable: ${String(p.src)}`, { rc: r.rc });
    return { changed: false, content: r.stdout.trim(), encoding: 'base64', source: p.src };
  },
};
