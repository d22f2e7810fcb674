import { readFileSync, statSync } from 'node:fs';
import { withPathInfo } from './path-info.js';
import {
  applyContent,
  contentParams,
  describeContent,
  planContent,
  queryContent,
  type ContentChange,
  type ContentState,
} from './content.js';
import { NotImplementedError } from '../core/errors.js';
import { statRemote } from './remote-file.js';
import { defineStateModule, ModuleFailure, type ModuleContext } from './types.js';
import { coerceParam, type Params } from './spec.js';

const checkedMode = (mode: unknown): string | undefined =>
  mode === undefined || mode === null ? undefined : (coerceParam('mode', 'mode', mode) as string);

/**
 * remote_src: the source is a file on the host, copied there (never through the controller), as Ansible's copy:
 * a new dest gets 0644 (or `mode`; `preserve` is the source's mode), an existing one keeps its mode.
 */
async function queryRemoteSrc(ctx: ModuleContext, p: Params): Promise<ContentState> {
  if (p.src === undefined) throw new ModuleFailure('src (or content) is required');
  const src = String(p.src);
  const f = await statRemote(ctx, src, false, true);
  if (!f.exists) throw new ModuleFailure(`Source ${src} not found`);
  if (f.type === 'directory')
    throw new NotImplementedError(`copy: remote_src with a directory as src is not implemented by orch (${src})`);
  if (f.sha1 === undefined) throw new ModuleFailure(`Source ${src} not readable`);
  p.mode = p.mode === 'preserve' ? f.mode : checkedMode(p.mode);
  const s = await queryContent(ctx, p, Buffer.alloc(0), src);
  return { ...s, remoteSrc: { path: src, sha1: f.sha1, size: f.size ?? 0 } };
}

function localContent(ctx: ModuleContext, p: Params): { content: Buffer; srcName?: string; mode?: string } {
  if (typeof p.content === 'string') return { content: Buffer.from(p.content) };
  if (p.content !== undefined && p.content !== null)
    return { content: Buffer.from(typeof p.content === 'object' ? JSON.stringify(p.content) : String(p.content)) };
  const src = String(p.src);
  const found = ctx.findLocal('files', src);
  if (!found)
    throw new ModuleFailure(
      `Could not find or access '${src}' on the Ansible Controller (looked in the role's or playbook's files/ directory).\nIf you are using a module and expect the file to exist on the remote, see the remote_src option`,
    );
  if (statSync(found).isDirectory())
    throw new ModuleFailure(`src '${src}' is a directory; orch's copy takes single files (use a loop with_fileglob)`);
  return { content: readFileSync(found), srcName: src, mode: `0${(statSync(found).mode & 0o7777).toString(8)}` };
}

export const copy = withPathInfo(
  defineStateModule<ContentState, ContentChange>({
    name: 'copy',
    spec: {
      // mode `preserve` (the source's own mode) is resolved in query; any other value is checked there as a mode
      params: {
        ...contentParams,
        mode: { type: 'raw', support: 'full' },
        src: { type: 'path', support: 'full' },
        content: { type: 'raw', support: 'full', noLog: false },
        remote_src: { type: 'bool', support: 'full', default: false },
      },
      mutuallyExclusive: [['src', 'content']],
      requiredOneOf: [['src', 'content']],
    },
    async query(ctx, p) {
      if (p.remote_src) return queryRemoteSrc(ctx, p);
      const { content, srcName, mode } = localContent(ctx, p);
      p.mode = p.mode === 'preserve' ? mode : checkedMode(p.mode);
      return queryContent(ctx, p, content, srcName);
    },
    plan: planContent,
    apply: applyContent,
    describe: (_p, s) => describeContent(s),
  }),
);
