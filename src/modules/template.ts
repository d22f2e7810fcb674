import { readFileSync } from 'node:fs';
import { applyContent, contentParams, describeContent, planContent, queryContent, type ContentChange, type ContentState } from './content.js';
import { defineStateModule, ModuleFailure } from './types.js';

export const template = defineStateModule<ContentState, ContentChange>({
  name: 'template',
  spec: {
    params: {
      ...contentParams,
      src: { type: 'path', support: 'full', required: true },
      newline_sequence: { type: 'str', support: 'none', note: 'templates are written with \\n line ends', default: '\n' },
      trim_blocks: { type: 'bool', support: 'none', note: 'orch renders with its own fixed whitespace settings', default: true },
      lstrip_blocks: { type: 'bool', support: 'none', note: 'orch renders with its own fixed whitespace settings', default: false },
    },
  },
  async query(ctx, p) {
    const src = String(p.src);
    const found = ctx.findLocal('templates', src);
    if (!found) throw new ModuleFailure(`could not find template '${src}' in the role's or playbook's templates/ directory`);
    const text = ctx.render(readFileSync(found, 'utf8'));
    return queryContent(ctx, p, Buffer.from(text), src.replace(/\.j2$/, ''));
  },
  plan: planContent,
  apply: applyContent,
  describe: (_p, s) => describeContent(s),
});
