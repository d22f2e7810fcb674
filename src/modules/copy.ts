import { readFileSync, statSync } from 'node:fs';
import { withPathInfo } from './path-info.js';
import { applyContent, contentParams, describeContent, planContent, queryContent, type ContentChange, type ContentState } from './content.js';
import { defineStateModule, ModuleFailure, type ModuleContext } from './types.js';
import type { Params } from './spec.js';

function localContent(ctx: ModuleContext, p: Params): { content: Buffer; srcName?: string } {
  if (typeof p.content === 'string') return { content: Buffer.from(p.content) };
  if (p.content !== undefined && p.content !== null) return { content: Buffer.from(typeof p.content === 'object' ? JSON.stringify(p.content) : String(p.content)) };
  const src = String(p.src);
  const found = ctx.findLocal('files', src);
  if (!found) throw new ModuleFailure(`Could not find or access '${src}' on the Ansible Controller (looked in the role's or playbook's files/ directory).\nIf you are using a module and expect the file to exist on the remote, see the remote_src option`);
  if (statSync(found).isDirectory()) throw new ModuleFailure(`src '${src}' is a directory; orch's copy takes single files (use a loop with_fileglob)`);
  return { content: readFileSync(found), srcName: src };
}

export const copy = withPathInfo(defineStateModule<ContentState, ContentChange>({
  name: 'copy',
  spec: {
    params: { ...contentParams, src: { type: 'path', support: 'full' }, content: { type: 'raw', support: 'full', noLog: false }, remote_src: { type: 'bool', support: 'full', default: false } },
    mutuallyExclusive: [['src', 'content']],
    requiredOneOf: [['src', 'content']],
  },
  async query(ctx, p) {
    if (p.remote_src) throw new ModuleFailure('remote_src is not supported by orch yet');
    const { content, srcName } = localContent(ctx, p);
    return queryContent(ctx, p, content, srcName);
  },
  plan: planContent,
  apply: applyContent,
  describe: (_p, s) => describeContent(s),
}));
