import { sh } from '../transport/quote.js';
import { commandFailed, type Module } from './types.js';

/** ansible.builtin.tempfile: a new private (mktemp: 0600 file, 0700 dir) temporary file or directory. */
export const tempfile: Module = {
  name: 'tempfile',
  spec: {
    params: {
      state: { type: 'str', support: 'full', default: 'file', choices: ['file', 'directory'] },
      path: { type: 'path', support: 'full' },
      prefix: { type: 'str', support: 'full', default: 'ansible.' },
      suffix: { type: 'str', support: 'full', default: '' },
    },
  },
  async run(ctx, p) {
    if (ctx.check) return { changed: true, path: '', state: String(p.state) };
    const dir = p.path === undefined ? '"${TMPDIR:-/tmp}"' : sh`${String(p.path)}`;
    const name = sh`${`${String(p.prefix)}XXXXXXXX${String(p.suffix)}`}`;
    const r = await ctx.run(`mktemp ${p.state === 'directory' ? '-d ' : ''}-p ${dir} -- ${name}`);
    if (r.rc !== 0) throw commandFailed('mktemp', r);
    return { changed: true, path: r.stdout.trim(), state: String(p.state) };
  },
};
