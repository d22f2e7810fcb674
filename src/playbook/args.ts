const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

/** Ansible decodes backslash escapes in k=v values (`content="a\nb"` is two lines). */
function decodeEscapes(s: string): string {
  return s.replace(/\\([ntr\\"'])/g, (_m, c: string) => ESCAPES[c] ?? c);
}

/** Surrounding quotes removed only when they wrap the whole value (Ansible's unquote). */
function unquote(v: string): string {
  return v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0] ? v.slice(1, -1) : v;
}

/**
 * Split `src=a dest="b c"` into a dict, as Ansible's parse_kv: quotes group a token and are removed only
 * when they wrap a whole value (`var=d['key']` keeps its quotes); escapes are decoded.
 */
export function parseKeyValueArgs(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { start, end } of tokenSpans(text)) {
    const original = text.slice(start, end);
    const token = decodeEscapes(original);
    const eq = token.search(/(?<!\\)=/);
    if (eq > 0) out[token.slice(0, eq).trim()] = unquote(token.slice(eq + 1).trim());
    else out._raw_params = out._raw_params === undefined ? original : `${String(out._raw_params)} ${original}`;
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
  out[param] = rest
    .replace(/\s+$/, '')
    .replace(/^\s+/, '')
    .replace(/\s{2,}/g, (m, off: number) => (off === 0 ? '' : m));
  return out;
}

export function containsTemplate(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('{{') || v.includes('{%');
  if (Array.isArray(v)) return v.some(containsTemplate);
  if (v && typeof v === 'object') return Object.values(v).some(containsTemplate);
  return false;
}

/**
 * A module's arguments given as one template (`iptables: "{{ item.rule }}"`, `args: "{{ opts }}"`): Ansible
 * renders it per host into the arguments mapping (with a warning). Kept under this key until then.
 */
export const ARGS_TEMPLATE = '__orch_args_template';

export function isArgsTemplate(v: unknown): v is string {
  return typeof v === 'string' && /^\s*\{\{((?!\{\{|\}\}).)*\}\}\s*$/s.test(v);
}
