import { splitKeyValues } from '../inventory/ini.js';

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

/** Ansible decodes backslash escapes in k=v values (`content="a\nb"` is two lines). */
function decodeEscapes(s: string): string {
  return s.replace(/\\([ntr\\"'])/g, (_m, c: string) => ESCAPES[c] ?? c);
}

/** Split `src=a dest="b c"` into a dict (Ansible's k=v free-form arguments). */
export function parseKeyValueArgs(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const token of splitKeyValues(text)) {
    const eq = token.indexOf('=');
    if (eq > 0) out[token.slice(0, eq)] = decodeEscapes(token.slice(eq + 1));
    else out._raw_params = out._raw_params === undefined ? token : `${String(out._raw_params)} ${token}`;
  }
  return out;
}

const FREE_FORM_OPTIONS = ['chdir', 'creates', 'removes', 'executable', 'stdin'];

/** command/shell: the text is the command, except leading/trailing `chdir=... creates=...` options. */
export function parseFreeForm(text: string, param: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let rest = text;
  const re = new RegExp(`(?:^|\\s)(${FREE_FORM_OPTIONS.join('|')})=("[^"]*"|'[^']*'|\\S+)`, 'g');
  rest = rest.replace(re, (_m, k: string, v: string) => {
    out[k] = v.replace(/^(["'])(.*)\1$/, '$2');
    return '';
  });
  out[param] = rest.trim();
  return out;
}

export function containsTemplate(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{') || v.includes('{%');
  if (Array.isArray(v)) return v.some(containsTemplate);
  if (v && typeof v === 'object') return Object.values(v).some(containsTemplate);
  return false;
}
