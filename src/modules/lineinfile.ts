import type { Params } from './spec.js';
import { defineTextEditModule, fileAttrParams, joinLines, splitLines, type TextEdit } from './text-edit.js';
import { ModuleFailure } from './types.js';
import { pythonRegExp } from './pyregex.js';

const pyRe = (s: string): RegExp => pythonRegExp(s);
const EMPTY_REGEXP =
  "The regular expression is an empty string, which will match every line in the file. This may have unintended consequences, such as replacing the last line in the file rather than appending. If this is desired, use '^' to match every line in the file and avoid this warning.";
const EMPTY_SEARCH =
  'The search string is an empty string, which will match every line in the file. This may have unintended consequences, such as replacing the last line in the file rather than appending.';

/** Ansible's warning for an empty regexp/search_string, on whatever result the edit gives. */
function warnEmpty(p: Params, e: TextEdit): TextEdit {
  const w = p.regexp === '' ? EMPTY_REGEXP : p.search_string === '' ? EMPTY_SEARCH : undefined;
  return w ? { ...e, warnings: [w] } : e;
}

export function editLine(p: Params, current: string | null): TextEdit {
  return warnEmpty(p, editLineOnly(p, current));
}

/** Pure lineinfile, following Ansible's rules (regexp/search_string, insertafter/insertbefore, backrefs). */
function editLineOnly(p: Params, current: string | null): TextEdit {
  const path = String(p.path);
  if (current === null) {
    if (p.state === 'absent') return { text: null, msg: '' };
    if (!p.create) throw new ModuleFailure(`Destination ${path} does not exist !`, { rc: 257 });
    current = '';
  }
  const lines = splitLines(current);
  const regexp = typeof p.regexp === 'string' ? pyRe(p.regexp) : undefined;
  const search = typeof p.search_string === 'string' ? p.search_string : undefined;
  const matches = (l: string) => (regexp ? regexp.test(l) : search !== undefined ? l.includes(search) : false);

  if (p.state === 'absent') {
    const keep = lines.filter((l) => !(regexp || search !== undefined ? matches(l) : l === p.line));
    const removed = lines.length - keep.length;
    return removed === 0
      ? { text: null, msg: '', extra: { found: 0 } }
      : { text: joinLines(keep), msg: `${removed} line(s) removed`, extra: { found: removed } };
  }
  if (p.line === undefined || p.line === null) throw new ModuleFailure('line is required with state=present');
  let line = String(p.line);
  let idx = -1;
  for (let i = 0; i < lines.length; i++) if (matches(lines[i] as string)) idx = p.firstmatch ? (idx < 0 ? i : idx) : i;
  if (idx >= 0) {
    if (p.backrefs && regexp) {
      const m = regexp.exec(lines[idx] as string);
      if (m)
        line = line
          .replace(/\\(\d+)/g, (_x, n: string) => m[Number(n)] ?? '')
          .replace(/\\g<(\w+)>/g, (_x, n: string) => m.groups?.[n] ?? '');
    }
    if (lines[idx] === line) return { text: null, msg: '' };
    lines[idx] = line;
    return { text: joinLines(lines), msg: 'line replaced' };
  }
  if (p.backrefs) return { text: null, msg: '' };
  if (lines.includes(line)) return { text: null, msg: '' };
  const after = p.insertafter as string | undefined;
  const before = p.insertbefore as string | undefined;
  let at = lines.length;
  if (before === 'BOF') at = 0;
  else if (before) {
    const re = pyRe(before);
    const found = p.firstmatch ? lines.findIndex((l) => re.test(l)) : lines.map((l) => re.test(l)).lastIndexOf(true);
    if (found >= 0) at = found;
  } else if (after && after !== 'EOF') {
    const re = pyRe(after);
    const found = p.firstmatch ? lines.findIndex((l) => re.test(l)) : lines.map((l) => re.test(l)).lastIndexOf(true);
    if (found >= 0) at = found + 1;
  }
  lines.splice(at, 0, line);
  return { text: joinLines(lines), msg: 'line added' };
}

export const lineinfile = defineTextEditModule(
  'lineinfile',
  {
    params: {
      path: { type: 'path', support: 'full', required: true, aliases: ['dest', 'destfile', 'name'] },
      line: { type: 'str', support: 'full', aliases: ['value'] },
      regexp: { type: 'str', support: 'full', aliases: ['regex'] },
      search_string: { type: 'str', support: 'full' },
      state: { type: 'str', support: 'full', default: 'present', choices: ['present', 'absent'] },
      insertafter: { type: 'str', support: 'full' },
      insertbefore: { type: 'str', support: 'full' },
      backrefs: { type: 'bool', support: 'full', default: false },
      firstmatch: { type: 'bool', support: 'full', default: false },
      ...fileAttrParams,
    },
    mutuallyExclusive: [
      ['insertbefore', 'insertafter'],
      ['regexp', 'search_string'],
    ],
  },
  editLine,
);
