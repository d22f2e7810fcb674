import { defineConfigEditModule, pyEscape, pyReadLines, type ConfigEdit } from './config-edit.js';
import { withPathInfo } from './path-info.js';
import type { Params } from './spec.js';
import { ModuleFailure } from './types.js';

// A port of community.general 6.x ini_file's do_ini: same line rules, same messages, same bytes.

const FAKE = 'ad01e11446efb704fcdbdb21f2c43757423d91c5';

function matchOpt(option: string, line: string): RegExpExecArray | null {
  return new RegExp(`^[#;]?( |\\t)*(${pyEscape(option)})( |\\t)*(=|$)( |\\t)*(.*)`).exec(line.replace(/\n$/, ''));
}

function matchActiveOpt(option: string, line: string): RegExpExecArray | null {
  return new RegExp(`^( |\\t)*(${pyEscape(option)})( |\\t)*(=|$)( |\\t)*(.*)`).exec(line.replace(/\n$/, ''));
}

/** Pure ini_file: the new text (null when unchanged) and Ansible's msg. */
export function editIni(p: Params, current: string | null): ConfigEdit {
  const path = String(p.path);
  const state = p.state === 'absent' ? 'absent' : 'present';
  const allowNoValue = p.allow_no_value === true;
  const exclusive = p.exclusive !== false;
  const option = typeof p.option === 'string' && p.option !== '' ? p.option : undefined;
  const rawValues: string[] =
    p.value !== undefined && p.value !== null ? [String(p.value)] : Array.isArray(p.values) ? p.values.map(String) : [];
  if (state === 'present' && !allowNoValue && rawValues.length === 0) {
    throw new ModuleFailure("Parameter 'value(s)' must be defined if state=present and allow_no_value=False.");
  }
  const values: string[] = [];
  for (const v of rawValues) if (!values.includes(v)) values.push(v);

  if (current === null && p.create === false)
    throw new ModuleFailure(`Destination ${path} does not exist!`, { rc: 257 });
  const lines = pyReadLines(current ?? '');
  let changed = false;
  if (lines.length === 0) lines.push('\n');
  const last = lines[lines.length - 1] as string;
  if (!last.endsWith('\n')) {
    lines[lines.length - 1] = `${last}\n`;
    changed = true;
  }
  lines.unshift(`[${FAKE}]`);
  lines.push('[');
  const section = typeof p.section === 'string' && p.section !== '' ? p.section : FAKE;
  let within = false;
  let start = 0;
  let end = 0;
  let msg = 'OK';
  const fmt = (o: string, v: string) => (p.no_extra_spaces === true ? `${o}=${v}\n` : `${o} = ${v}\n`);
  let noValuePresent = false;
  const blankOrComment = /^[ \t]*([#;].*)?$/;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith(`[${section}]`)) {
      within = true;
      start = i;
    } else if (line.startsWith('[') && within) {
      end = i;
      break;
    }
  }
  const before = lines.slice(0, start);
  let sect = lines.slice(start, end);
  const after = lines.slice(end);
  const touched: boolean[] = sect.map(() => false);
  const update = (i: number, newline: string) => {
    if (sect[i] !== newline) {
      changed = true;
      msg = 'option changed';
    }
    sect[i] = newline;
    touched[i] = true;
  };

  if (state === 'present' && option) {
    for (let i = 0; i < sect.length; i++) {
      const m = matchOpt(option, sect[i] as string);
      if (!m) continue;
      const v = m[6] ?? '';
      if (values.length > 0 && values.includes(v)) {
        if (!v && allowNoValue) {
          update(i, `${option}\n`);
          noValuePresent = true;
        } else update(i, fmt(option, v));
        values.splice(values.indexOf(v), 1);
      } else if (values.length === 0 && allowNoValue) {
        update(i, `${option}\n`);
        noValuePresent = true;
        break;
      }
    }
  }
  if (state === 'present' && exclusive && !allowNoValue && option) {
    if (values.length > 0) {
      for (let i = 0; i < sect.length; i++) {
        if (!touched[i] && matchOpt(option, sect[i] as string)) {
          update(i, fmt(option, values.shift() as string));
          if (values.length === 0) break;
        }
      }
    }
    for (let i = sect.length - 1; i > 0; i--) {
      if (!touched[i] && matchOpt(option, sect[i] as string)) {
        sect.splice(i, 1);
        touched.splice(i, 1);
        changed = true;
        msg = 'option changed';
      }
    }
  }
  if (state === 'present') {
    for (let i = sect.length; i > 0; i--) {
      if (blankOrComment.test((sect[i - 1] as string).replace(/\n$/, ''))) continue;
      if (option && values.length > 0) {
        for (const v of [...values].reverse()) {
          sect.splice(i, 0, fmt(option, v));
          msg = 'option added';
          changed = true;
        }
      } else if (option && values.length === 0 && allowNoValue && !noValuePresent) {
        sect.splice(i, 0, `${option}\n`);
        msg = 'option added';
        changed = true;
      }
      break;
    }
  }
  if (state === 'absent') {
    if (option) {
      if (exclusive) {
        const kept = sect.filter((l) => !matchActiveOpt(option, l));
        if (kept.length !== sect.length) {
          changed = true;
          msg = 'option changed';
          sect = kept;
        }
      } else if (values.length > 0) {
        const kept = sect.filter((l) => {
          const m = matchActiveOpt(option, l);
          return !(m && values.includes(m[6] ?? ''));
        });
        if (kept.length !== sect.length) {
          changed = true;
          msg = 'option changed';
          sect = kept;
        }
      }
    } else if (sect.length > 0) {
      sect = [];
      msg = 'section removed';
      changed = true;
    }
  }
  const out = [...before, ...sect, ...after].slice(1, -1);
  if (!within && state === 'present') {
    out.push(`[${section}]\n`);
    msg = 'section and option added';
    if (option && values.length > 0) for (const v of values) out.push(fmt(option, v));
    else if (option && values.length === 0 && allowNoValue) out.push(`${option}\n`);
    else msg = 'only section added';
    changed = true;
  }
  const text = out.join('');
  return { text: changed ? text : null, result: { msg, path } };
}

export const iniFile = withPathInfo(
  defineConfigEditModule(
    'ini_file',
    {
      params: {
        path: { type: 'path', support: 'full', required: true, aliases: ['dest'] },
        section: { type: 'str', support: 'full' },
        option: { type: 'str', support: 'full' },
        value: { type: 'str', support: 'full' },
        values: { type: 'list', support: 'full', elements: 'str' },
        backup: { type: 'bool', support: 'full', default: false },
        state: { type: 'str', support: 'full', default: 'present', choices: ['absent', 'present'] },
        exclusive: { type: 'bool', support: 'full', default: true },
        no_extra_spaces: { type: 'bool', support: 'full', default: false },
        allow_no_value: { type: 'bool', support: 'full', default: false },
        create: { type: 'bool', support: 'full', default: true },
        mode: { type: 'mode', support: 'full' },
        owner: { type: 'str', support: 'full' },
        group: { type: 'str', support: 'full' },
      },
      mutuallyExclusive: [['value', 'values']],
    },
    { path: (p) => String(p.path), edit: editIni, makeParent: true, pathInfo: true },
  ),
);
