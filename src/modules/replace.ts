import { pythonRegExp, pythonSubn } from './pyregex.js';
import type { Params } from './spec.js';
import { fileWriteParams } from './remote-file.js';
import { defineTextEditModule, type TextEdit } from './text-edit.js';
import { ModuleFailure } from './types.js';

/** Pure `replace`: every match of `regexp` (MULTILINE) between `after` and `before`, as Ansible's re.subn. */
export function replaceText(p: Params, current: string | null): TextEdit {
  if (current === null) throw new ModuleFailure(`Path ${String(p.path)} does not exist !`, { rc: 257 });
  let start = 0;
  let end = current.length;
  // after/before are searched with DOTALL|MULTILINE; the section lies between their matches
  if (typeof p.after === 'string' && p.after !== '') {
    const m = pythonRegExp(p.after, 'ms').exec(current);
    if (m) start = m.index + m[0].length;
  }
  if (typeof p.before === 'string' && p.before !== '') {
    const m = pythonRegExp(p.before, 'ms').exec(current);
    if (m) end = m.index;
  }
  if (end < start) return { text: null, msg: '' };
  const section = current.slice(start, end);
  const [replaced, count] = pythonSubn(String(p.regexp), String(p.replace ?? ''), section);
  if (count === 0 || replaced === section) return { text: null, msg: '' };
  return { text: current.slice(0, start) + replaced + current.slice(end), msg: `${count} replacements made` };
}

export const replace = defineTextEditModule(
  'replace',
  {
    params: {
      path: { type: 'path', support: 'full', required: true, aliases: ['dest', 'destfile', 'name'] },
      regexp: { type: 'str', support: 'full', required: true },
      replace: { type: 'str', support: 'full', default: '' },
      after: { type: 'str', support: 'full' },
      before: { type: 'str', support: 'full' },
      encoding: { type: 'str', support: 'partial', note: 'UTF-8 only', default: 'utf-8', choices: ['utf-8', 'utf8'] },
      ...fileWriteParams,
    },
  },
  replaceText,
);
