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
    if (r.rc !== 0) {
      // Ansible's messages (slurp reads the file with Python: errno decides)
      const src = String(p.src);
      const msg = /No such file/.test(r.stderr)
        ? `file not found: ${src}`
        : /Is a directory/.test(r.stderr)
          ? `source is a directory and must be a file: ${src}`
          : /Permission denied/.test(r.stderr)
            ? `file is not readable: ${src}`
            : `unable to slurp file: ${r.stderr.trim()}`;
      throw new ModuleFailure(msg);
    }
    return { changed: false, content: r.stdout.trim(), encoding: 'base64', source: p.src };
  },
};
