import type { Params } from './spec.js';
import { defineTextEditModule, fileAttrParams, joinLines, splitLines, type TextEdit } from './text-edit.js';
import { ModuleFailure } from './types.js';
import { pythonRegExp } from './pyregex.js';

/** Pure blockinfile: a block between BEGIN/END marker lines, replaced as a whole. */
export function editBlock(p: Params, current: string | null): TextEdit {
  const marker = String(p.marker ?? '# {mark} ANSIBLE MANAGED BLOCK');
  const begin = marker.replace('{mark}', String(p.marker_begin ?? 'BEGIN'));
  const end = marker.replace('{mark}', String(p.marker_end ?? 'END'));
  const created = current === null;
  if (current === null) {
    if (p.state === 'absent') return { text: null, msg: '' };
    if (!p.create) throw new ModuleFailure(`Path ${String(p.path)} does not exist !`, { rc: 257 });
    current = '';
  }
  const lines = splitLines(current);
  const b = lines.indexOf(begin);
  const e = b >= 0 ? lines.indexOf(end, b) : -1;
  const block = String(p.block ?? '');
  const blockLines =
    p.state === 'absent' || block === ''
      ? []
      : [begin, ...splitLines(block.endsWith('\n') ? block : `${block}\n`), end];
  let out: string[];
  if (b >= 0 && e >= 0) out = [...lines.slice(0, b), ...blockLines, ...lines.slice(e + 1)];
  else {
    if (blockLines.length === 0) return { text: null, msg: '' };
    let at = lines.length;
    const after = p.insertafter as string | undefined;
    const before = p.insertbefore as string | undefined;
    if (before === 'BOF') at = 0;
    else if (before) {
      const i = lines.map((l) => pythonRegExp(before).test(l)).lastIndexOf(true);
      if (i >= 0) at = i;
    } else if (after && after !== 'EOF') {
      const i = lines.map((l) => pythonRegExp(after).test(l)).lastIndexOf(true);
      if (i >= 0) at = i + 1;
    }
    out = [...lines.slice(0, at), ...blockLines, ...lines.slice(at)];
  }
  const text = joinLines(out);
  if (text === current) return { text: null, msg: '' };
  // Ansible's three messages (a replaced block is "inserted" too)
  const msg = created ? 'File created' : blockLines.length === 0 ? 'Block removed' : 'Block inserted';
  return { text, msg };
}

export const blockinfile = defineTextEditModule(
  'blockinfile',
  {
    params: {
      path: { type: 'path', support: 'full', required: true, aliases: ['dest', 'destfile', 'name'] },
      block: { type: 'str', support: 'full', default: '', aliases: ['content'] },
      marker: { type: 'str', support: 'full', default: '# {mark} ANSIBLE MANAGED BLOCK' },
      marker_begin: { type: 'str', support: 'full', default: 'BEGIN' },
      marker_end: { type: 'str', support: 'full', default: 'END' },
      state: { type: 'str', support: 'full', default: 'present', choices: ['present', 'absent'] },
      insertafter: { type: 'str', support: 'full' },
      insertbefore: { type: 'str', support: 'full' },
      ...fileAttrParams,
    },
    mutuallyExclusive: [['insertbefore', 'insertafter']],
  },
  editBlock,
);
