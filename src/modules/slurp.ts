import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { ModuleFailure, type Module, type ModuleContext } from './types.js';

/** Read-only: the whole module is its query. */
const read = (ctx: ModuleContext, p: Params) => ctx.run(sh`base64 -w0 < ${String(p.src)}`);

export const slurp: Module = {
  name: 'slurp',
  spec: { params: { src: { type: 'path', support: 'full', required: true, aliases: ['path'] } } },
  query: read,
  async run(ctx, p) {
    const r = await read(ctx, p);
    if (r.rc !== 0) throw new ModuleFailure(`file not found or unreadable: ${String(p.src)}`, { rc: r.rc });
    return { changed: false, content: r.stdout.trim(), encoding: 'base64', source: p.src };
  },
};
