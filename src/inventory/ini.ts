import { ParseError } from '../core/errors.js';
import type { Inventory } from './model.js';

const MAX_RANGE = 100_000;

/** Expand Ansible host ranges: web[01:03] → web01 web02 web03; db-[a:c] → db-a db-b db-c. */
export function expandHostRange(pattern: string, file: string, line: number): string[] {
  const m = /^(.*?)\[([^\]:]+):([^\]:]+)(?::(\d+))?\](.*)$/.exec(pattern);
  if (!m) return [pattern];
  const [, pre = '', from = '', to = '', stepText, post = ''] = m;
  const step = stepText ? Number(stepText) : 1;
  if (step < 1) throw new ParseError(`bad host range '${pattern}': the step must be 1 or more`, { file, line });
  const tooMany = () => new ParseError(`host range '${pattern}' names more than ${MAX_RANGE} hosts`, { file, line }, 'Check the bounds of the range.');
  const count = /^\d+$/.test(from) && /^\d+$/.test(to) ? (Number(to) - Number(from)) / step : 0;
  if (count > MAX_RANGE) throw tooMany();
  const out: string[] = [];
  const add = (name: string) => {
    out.push(...expandHostRange(name, file, line));
    if (out.length > MAX_RANGE) throw tooMany();
  };
  if (/^\d+$/.test(from) && /^\d+$/.test(to)) {
    const width = from.startsWith('0') ? from.length : 0;
    for (let i = Number(from); i <= Number(to); i += step) add(`${pre}${String(i).padStart(width, '0')}${post}`);
  } else if (/^[a-z]$/i.test(from) && /^[a-z]$/i.test(to)) {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c += step) add(`${pre}${String.fromCharCode(c)}${post}`);
  } else throw new ParseError(`bad host range '${pattern}'`, { file, line }, 'Use [01:10] or [a:f].');
  return out;
}

/** Split `k=v k2="a b" k3={{ x | y }}` respecting quotes and Jinja blocks. */
export function splitKeyValues(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | null = null;
  let jinja = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const two = text.slice(i, i + 2);
    if (two === '{{' || two === '{%') {
      jinja++;
      cur += two;
      i++;
    } else if (jinja > 0 && (two === '}}' || two === '%}')) {
      jinja--;
      cur += two;
      i++;
    } else if (jinja > 0) cur += ch;
    else if (q) {
      if (ch === q) q = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") q = ch;
    else if (/\s/.test(ch)) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** Host-line values are read as literals (numbers, booleans); :vars values stay strings, as in Ansible. */
function literal(v: string): unknown {
  if (/^-?\d+$/.test(v)) return Number(v);
  if (v === 'True' || v === 'true') return true;
  if (v === 'False' || v === 'false') return false;
  return v;
}

export function parseIniInventory(text: string, file: string, inv: Inventory): void {
  let section = 'ungrouped';
  let kind: 'hosts' | 'vars' | 'children' = 'hosts';
  text.split('\n').forEach((rawLine, i) => {
    const lineNo = i + 1;
    const line = rawLine.replace(/(^|\s)[#;].*$/, '').trim();
    if (!line) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const [name = '', suffix] = (header[1] ?? '').split(':');
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new ParseError(`bad group name '${name}'`, { file, line: lineNo }, 'Group names use letters, digits, _ . and -.');
      if (suffix !== undefined && suffix !== 'vars' && suffix !== 'children') {
        throw new ParseError(`unknown section suffix ':${suffix}'`, { file, line: lineNo }, 'Use [group], [group:vars] or [group:children].');
      }
      section = name;
      kind = (suffix as 'vars' | 'children' | undefined) ?? 'hosts';
      inv.group(section);
      return;
    }
    if (kind === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 1) throw new ParseError(`expected key=value in [${section}:vars]`, { file, line: lineNo });
      inv.group(section).vars[line.slice(0, eq).trim()] = line.slice(eq + 1).trim().replace(/^(["'])(.*)\1$/, '$2');
      return;
    }
    if (kind === 'children') {
      inv.addChild(section, line, file, lineNo);
      return;
    }
    const [hostPattern = '', ...pairs] = splitKeyValues(line);
    for (const name of expandHostRange(hostPattern, file, lineNo)) {
      const h = inv.host(name);
      if (section !== 'ungrouped') inv.group(section).hosts.add(name);
      for (const p of pairs) {
        const eq = p.indexOf('=');
        if (eq < 1) throw new ParseError(`expected key=value after host '${name}', got '${p}'`, { file, line: lineNo });
        h.vars[p.slice(0, eq)] = literal(p.slice(eq + 1));
      }
    }
  });
}
