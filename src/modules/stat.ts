import { ModuleFailure, type Module } from './types.js';
import type { Params } from './spec.js';
import { statRemote } from './remote-file.js';

/** What orch's stat cannot return: refused rather than left out of the result silently. */
function refuseUnsupported(p: Params): void {
  if (p.checksum_algorithm !== undefined && String(p.checksum_algorithm) !== 'sha1') throw new ModuleFailure(`stat: checksum_algorithm '${String(p.checksum_algorithm)}' is not implemented by orch (sha1 only)`);
  if (p.get_mime === true) throw new ModuleFailure('stat: get_mime: true is not implemented by orch (mimetype and charset are not returned)');
  if (p.get_attributes === true) throw new ModuleFailure('stat: get_attributes: true is not implemented by orch (attributes are not returned)');
}

export const stat: Module = {
  name: 'stat',
  spec: {
    params: {
      path: { type: 'path', support: 'full', required: true, aliases: ['dest', 'name'] },
      get_checksum: { type: 'bool', support: 'full', default: true },
      checksum_algorithm: { type: 'str', support: 'partial', note: 'sha1 only', default: 'sha1', aliases: ['checksum', 'checksum_algo'] },
      follow: { type: 'bool', support: 'full', default: false },
      get_mime: { type: 'bool', support: 'partial', note: 'mimetype and charset are not returned: only false is accepted', default: false, aliases: ['mime', 'mime_type', 'mime-type'] },
      get_attributes: { type: 'bool', support: 'partial', note: 'attributes are not returned: only false is accepted', default: false, aliases: ['attr', 'attributes'] },
    },
  },
  query: (ctx, p) => statRemote(ctx, String(p.path), false, p.follow === true),
  async run(ctx, p) {
    refuseUnsupported(p);
    const f = await statRemote(ctx, String(p.path), false, p.follow === true);
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
