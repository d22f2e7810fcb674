import { ModuleFailure } from './types.js';

/**
 * Python `re` patterns as JavaScript RegExps: inline flags at the start ((?i), (?m), (?s), (?x)), named
 * groups (?P<n>…) and back-references (?P=n), \A and \Z. Modules take regexps written for Python
 * (lineinfile, replace, find); what has no JavaScript equivalent is an error naming the pattern.
 */
export function pythonRegExp(pattern: string, extraFlags = ''): RegExp {
  let source = pattern;
  let flags = extraFlags;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    for (const f of inline[1] ?? '') {
      if (f === 'x') source = stripVerbose(source);
      else if ('ims'.includes(f) && !flags.includes(f)) flags += f;
    }
  }
  source = source
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/(^|[^\\])\\A/g, '$1(?<![\\s\\S])')
    .replace(/(^|[^\\])\\Z/g, '$1(?![\\s\\S])');
  try {
    return new RegExp(source, flags.includes('u') ? flags : `${flags}`);
  } catch (err) {
    throw new ModuleFailure(`unable to compile the regular expression '${pattern}': ${(err as Error).message}`);
  }
}

/** (?x): white space and # comments outside classes are not part of the pattern. */
function stripVerbose(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === '\\') {
      out += c + (source[i + 1] ?? '');
      i++;
    } else if (inClass) {
      out += c;
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      out += c;
    } else if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (!/\s/.test(c)) out += c;
  }
  return out;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };

/** Expand a Python re.sub replacement (\1, \g<1>, \g<name>, \n…) for one match. */
export function expandPythonReplacement(
  template: string,
  m: RegExpExecArray | string[],
  groups?: Record<string, string | undefined>,
): string {
  return template.replace(/\\(g<(\w+)>|\d{1,2}|.)/g, (whole, what: string, name: string | undefined) => {
    if (name !== undefined) return (/^\d+$/.test(name) ? m[Number(name)] : groups?.[name]) ?? '';
    if (/^\d+$/.test(what)) return m[Number(what)] ?? '';
    return ESCAPES[what] ?? whole;
  });
}

/** Python's re.subn with the MULTILINE flag, as Ansible's replace module calls it: [text, count]. */
export function pythonSubn(pattern: string, replacement: string, text: string): [string, number] {
  const re = pythonRegExp(pattern, 'gm');
  let count = 0;
  const out = text.replace(re, (...args: unknown[]) => {
    count++;
    const last = args[args.length - 1];
    const groups = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : undefined;
    const nGroups = args.length - (groups ? 3 : 2);
    const m = args.slice(0, nGroups).map((x) => (x === undefined ? '' : String(x)));
    return expandPythonReplacement(replacement, m, groups);
  });
  return [out, count];
}
