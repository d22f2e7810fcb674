import type { Module } from './types.js';
import { statRemote } from './remote-file.js';

export const stat: Module = {
  name: 'stat',
  spec: {
    params: {
      path: { type: 'path', required: true, aliases: ['dest', 'name'] },
      get_checksum: { type: 'bool', default: true },
      checksum_algorithm: { type: 'str', default: 'sha1', choices: ['sha1'] },
      follow: { type: 'bool', default: false },
      get_mime: { type: 'bool', default: false },
      get_attributes: { type: 'bool', default: false },
    },
  },
  query: (ctx, p) => statRemote(ctx, String(p.path)),
  async run(ctx, p) {
    const f = await statRemote(ctx, String(p.path));
    if (!f.exists) return { changed: false, stat: { exists: false } };
    const mode = f.mode ?? '0000';
    return {
      changed: false,
      stat: {
        exists: true,
        path: p.path,
        isdir: f.type === 'directory',
        isreg: f.type === 'file',
        islnk: f.type === 'link',
        lnk_source: f.linkTarget,
        mode,
        pw_name: f.owner,
        gr_name: f.group,
        size: f.size,
        ...(p.get_checksum !== false && f.sha1 ? { checksum: f.sha1 } : {}),
        xusr: (parseInt(mode, 8) & 0o100) !== 0,
        rusr: (parseInt(mode, 8) & 0o400) !== 0,
        wusr: (parseInt(mode, 8) & 0o200) !== 0,
      },
    };
  },
};
