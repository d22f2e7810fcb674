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

const FREE_FORM_OPTIONS = new Set(['chdir', 'creates', 'removes', 'executable', 'stdin']);

/** Whitespace-separated token spans of `text`, where quotes and `{{ }}` / `{% %}` keep spaces inside a token. */
function tokenSpans(text: string): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) break;
    const start = i;
    let q: string | null = null;
    let jinja = 0;
    while (i < text.length) {
      const two = text.slice(i, i + 2);
      const ch = text[i] as string;
      if (two === '{{' || two === '{%') {
        jinja++;
        i += 2;
      } else if (jinja > 0 && (two === '}}' || two === '%}')) {
        jinja--;
        i += 2;
      } else if (jinja === 0 && q === null && /\s/.test(ch)) break;
      else {
        if (jinja === 0 && (ch === '"' || ch === "'")) q = q === ch ? null : q === null ? ch : q;
        i++;
      }
    }
    spans.push({ start, end: i });
  }
  return spans;
}

/** command/shell: the text is the command, except `chdir=... creates=...` options anywhere in it. */
export function parseFreeForm(text: string, param: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let rest = '';
  let last = 0;
  for (const { start, end } of tokenSpans(text)) {
    const token = text.slice(start, end);
    const eq = token.indexOf('=');
    if (eq > 0 && FREE_FORM_OPTIONS.has(token.slice(0, eq))) {
      out[token.slice(0, eq)] = decodeEscapes(token.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2'));
      rest += text.slice(last, start);
      last = end;
    }
  }
  rest += text.slice(last);
  out[param] = rest.replace(/\s+$/, '').replace(/^\s+/, '').replace(/\s{2,}/g, (m, off: number) => (off === 0 ? '' : m));
  return out;
}

export function containsTemplate(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{') || v.includes('{%');
  if (Array.isArray(v)) return v.some(containsTemplate);
  if (v && typeof v === 'object') return Object.values(v).some(containsTemplate);
  return false;
}
