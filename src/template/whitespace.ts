import { TemplateError } from '../core/errors.js';

/*
 * Jinja2's lexer decides the whitespace of a template: trim_blocks, lstrip_blocks, the `-`/`+` markers,
 * comments, raw blocks, newline normalisation and the trailing newline (jinja2/lexer.py, 3.1). nunjucks does
 * each of these a little differently (it keeps the newline after a comment, knows no `{%+`, keeps the source's
 * last newline), so orch applies Jinja2's rules here, to the source, and hands nunjucks tags without markers,
 * with its own trimming off. Literal text that would look like a tag to nunjucks (raw blocks, custom
 * delimiters) is passed as a string literal instead.
 */

export interface JinjaOptions {
  trimBlocks: boolean;
  lstripBlocks: boolean;
  keepTrailingNewline: boolean;
  newlineSequence: string;
  blockStart: string;
  blockEnd: string;
  variableStart: string;
  variableEnd: string;
  commentStart: string;
  commentEnd: string;
}

/** Ansible's environment: Jinja2's defaults with trim_blocks on (ansible/template/__init__.py). */
export const ANSIBLE_DEFAULTS: JinjaOptions = {
  trimBlocks: true,
  lstripBlocks: false,
  keepTrailingNewline: false,
  newlineSequence: '\n',
  blockStart: '{%',
  blockEnd: '%}',
  variableStart: '{{',
  variableEnd: '}}',
  commentStart: '{#',
  commentEnd: '#}',
};

export interface Prepared {
  /** Source for nunjucks: standard delimiters, no whitespace markers, no comments. */
  source: string;
}

/** Text as a nunjucks string literal (its lexer knows \\ \" \n \r \t). */
function stringLiteral(t: string): string {
  return `"${t.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

const JINJA2_OVERRIDE = '#jinja2:';
const OVERRIDE_KEYS: Record<string, keyof JinjaOptions> = {
  trim_blocks: 'trimBlocks',
  lstrip_blocks: 'lstripBlocks',
  keep_trailing_newline: 'keepTrailingNewline',
  newline_sequence: 'newlineSequence',
  block_start_string: 'blockStart',
  block_end_string: 'blockEnd',
  variable_start_string: 'variableStart',
  variable_end_string: 'variableEnd',
  comment_start_string: 'commentStart',
  comment_end_string: 'commentEnd',
};

/** A Python literal as `ast.literal_eval` reads the values of a `#jinja2:` line (bools, strings, numbers). */
function pyLiteral(text: string): unknown {
  const t = text.trim();
  if (t === 'True') return true;
  if (t === 'False') return false;
  if (t === 'None') return null;
  if (/^-?\d+$/.test(t)) return Number(t);
  const m = /^(['"])((?:\\.|(?!\1).)*)\1$/s.exec(t);
  if (m && m[2] !== undefined) {
    const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
    return m[2].replace(/\\(.)/gs, (all, c: string) => escapes[c] ?? all);
  }
  throw new TemplateError(`cannot read '${t}' in the #jinja2: line (a Python literal such as True, False or 'text')`);
}

/**
 * Ansible's `#jinja2:` first line (`#jinja2: trim_blocks: False, lstrip_blocks: True`) overrides the
 * environment for this template; the line itself is not part of the output.
 */
export function readOverrides(src: string, base: JinjaOptions): { body: string; options: JinjaOptions } {
  if (!src.startsWith(JINJA2_OVERRIDE)) return { body: src, options: base };
  const eol = src.indexOf('\n');
  const line = src.slice(JINJA2_OVERRIDE.length, eol < 0 ? src.length - 1 : eol);
  const options: JinjaOptions = { ...base };
  for (const pair of line.split(',')) {
    const colon = pair.indexOf(':');
    if (colon < 0)
      throw new TemplateError(
        `failed to parse jinja2 override '${pair.trim()}'. Did you use something different from colon as key-value separator?`,
      );
    const key = pair.slice(0, colon).trim();
    const value = pyLiteral(pair.slice(colon + 1));
    const field = OVERRIDE_KEYS[key];
    if (!field)
      throw new TemplateError(`the #jinja2: setting '${key}' is not supported by orch`, {
        hint: `Supported: ${Object.keys(OVERRIDE_KEYS).join(', ')}.`,
      });
    if (typeof ANSIBLE_DEFAULTS[field] === 'boolean') (options[field] as boolean) = Boolean(value);
    else (options[field] as string) = String(value);
  }
  return { body: src.slice(eol + 1), options };
}

/** Trailing '\n' characters, counted as Ansible's `_count_newlines_from_end` does. */
export function trailingNewlines(s: string): number {
  let n = 0;
  while (n < s.length && s[s.length - 1 - n] === '\n') n++;
  return n;
}

const WS = /\s/;
function isBlank(s: string): boolean {
  return s.length > 0 && [...s].every((c) => WS.test(c));
}

/** `str.rstrip()` */
function rstrip(s: string): string {
  let e = s.length;
  while (e > 0 && WS.test(s[e - 1] as string)) e--;
  return s.slice(0, e);
}

/** Index just past the whitespace at `pos` (Jinja's `\s*` after a `-` end marker). */
function skipWs(s: string, pos: number): number {
  while (pos < s.length && WS.test(s[pos] as string)) pos++;
  return pos;
}

type Kind = 'block' | 'variable' | 'comment';

/** Rewrite a tag's inner text for nunjucks (Jinja syntax nunjucks' parser does not take). */
export type TagRewriter = (inner: string, kind: 'block' | 'variable') => string;

export function prepare(src: string, opts: JinjaOptions, rewrite: TagRewriter): Prepared {
  const lines = src.split(/\r\n|\r|\n/);
  if (!opts.keepTrailingNewline && lines[lines.length - 1] === '') lines.pop();
  const s = lines.join('\n');
  const out: string[] = [];
  // Newlines removed by whitespace control go into an empty comment, so nunjucks' line numbers stay right.
  const keepLines = (n: number) => {
    if (n > 0) out.push(`{#${'\n'.repeat(n)}#}`);
  };
  const data = (text: string) => {
    if (text === '') return;
    const t = opts.newlineSequence === '\n' ? text : text.replace(/\n/g, opts.newlineSequence);
    if (/\{[{%#]/.test(t) || t.endsWith('{')) {
      out.push(`{{ ${stringLiteral(t)} }}`);
      keepLines(t.split('\n').length - 1);
    } else out.push(t);
  };
  const starts: [Kind, string][] = (
    [
      ['block', opts.blockStart],
      ['variable', opts.variableStart],
      ['comment', opts.commentStart],
    ] as [Kind, string][]
  ).sort((a, b) => b[1].length - a[1].length);

  let pos = 0;
  let lineStarting = true;
  while (pos < s.length) {
    // The next tag start (earliest; at one position the longest delimiter wins, as Jinja sorts its rules).
    let at = -1;
    let kind: Kind = 'block';
    for (let i = pos; i < s.length && at < 0; i++) {
      for (const [k, d] of starts) {
        if (s.startsWith(d, i)) {
          at = i;
          kind = k;
          break;
        }
      }
    }
    if (at < 0) {
      data(s.slice(pos));
      break;
    }
    let afterStart =
      at + (kind === 'block' ? opts.blockStart : kind === 'variable' ? opts.variableStart : opts.commentStart).length;
    const sign = s[afterStart] === '-' || s[afterStart] === '+' ? (s[afterStart] as string) : '';
    afterStart += sign.length;
    let text = s.slice(pos, at);
    if (sign === '-') {
      const stripped = rstrip(text);
      keepLines(text.length - stripped.length === 0 ? 0 : text.slice(stripped.length).split('\n').length - 1);
      text = stripped;
    } else if (sign !== '+' && opts.lstripBlocks && kind !== 'variable') {
      const lpos = text.lastIndexOf('\n') + 1;
      if ((lpos > 0 || lineStarting) && isBlank(text.slice(lpos))) text = text.slice(0, lpos);
    }
    data(text);

    if (kind === 'block') {
      const raw = new RegExp(`^\\s*raw\\s*(?:-${escapeRe(opts.blockEnd)}\\s*|${escapeRe(opts.blockEnd)})`).exec(
        s.slice(afterStart),
      );
      if (raw) {
        pos = rawBlock(s, afterStart + raw[0].length, opts, data, keepLines);
        lineStarting = s[pos - 1] === '\n';
        continue;
      }
    }
    if (kind === 'comment') {
      const end = commentEnd(s, afterStart, opts);
      keepLines(s.slice(at, end).split('\n').length - 1);
      pos = end;
    } else {
      const { inner, end } = tagEnd(s, afterStart, kind, opts);
      out.push(kind === 'block' ? `{%${rewrite(inner, 'block')}%}` : `{{${rewrite(inner, 'variable')}}}`);
      keepLines(s.slice(afterStart + inner.length, end).split('\n').length - 1);
      pos = end;
    }
    lineStarting = s[pos - 1] === '\n';
  }
  return { source: out.join('') };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Where a comment ends (past `+#}`, `-#}` and following whitespace, or `#}` and one newline when trimming). */
function commentEnd(s: string, from: number, opts: JinjaOptions): number {
  const idx = s.indexOf(opts.commentEnd, from);
  if (idx < 0) throw new TemplateError('Missing end of comment tag');
  const past = idx + opts.commentEnd.length;
  if (idx > from && s[idx - 1] === '-') return skipWs(s, past);
  if (idx > from && s[idx - 1] === '+') return past;
  return opts.trimBlocks && s[past] === '\n' ? past + 1 : past;
}

/** The inside of a `{% %}` or `{{ }}` tag, skipping strings and brackets as Jinja's lexer does, and where it ends. */
function tagEnd(
  s: string,
  from: number,
  kind: 'block' | 'variable',
  opts: JinjaOptions,
): { inner: string; end: number } {
  const close = kind === 'block' ? opts.blockEnd : opts.variableEnd;
  let depth = 0;
  let i = from;
  while (i < s.length) {
    const c = s[i] as string;
    if (depth === 0) {
      if (kind === 'block' && s.startsWith(`+${close}`, i))
        return { inner: s.slice(from, i), end: i + 1 + close.length };
      if (s.startsWith(`-${close}`, i)) return { inner: s.slice(from, i), end: skipWs(s, i + 1 + close.length) };
      if (s.startsWith(close, i)) {
        const past = i + close.length;
        return {
          inner: s.slice(from, i),
          end: kind === 'block' && opts.trimBlocks && s[past] === '\n' ? past + 1 : past,
        };
      }
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < s.length && s[j] !== c) j += s[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    else if ((c === '}' || c === ')' || c === ']') && depth > 0) depth--;
    i++;
  }
  throw new TemplateError(
    `unexpected end of template, expected the end of the ${kind === 'block' ? 'block' : 'print'} tag`,
  );
}

/** `{% raw %}…{% endraw %}`: the text is literal; whitespace control applies around the endraw tag. */
function rawBlock(
  s: string,
  from: number,
  opts: JinjaOptions,
  data: (t: string) => void,
  keepLines: (n: number) => void,
): number {
  const bs = escapeRe(opts.blockStart);
  const be = escapeRe(opts.blockEnd);
  const re = new RegExp(`${bs}([-+]?)\\s*endraw\\s*(\\+${be}|-${be}\\s*|${be}${opts.trimBlocks ? '\\n?' : ''})`, 'g');
  re.lastIndex = from;
  const m = re.exec(s);
  if (!m) throw new TemplateError('Missing end of raw directive');
  let text = s.slice(from, m.index);
  if (m[1] === '-') {
    const stripped = rstrip(text);
    keepLines(text.slice(stripped.length).split('\n').length - 1);
    text = stripped;
  } else if (m[1] !== '+' && opts.lstripBlocks) {
    const lpos = text.lastIndexOf('\n') + 1;
    const lineStarting = s[from - 1] === '\n';
    if ((lpos > 0 || lineStarting) && isBlank(text.slice(lpos))) text = text.slice(0, lpos);
  }
  data(text);
  keepLines(m[0].split('\n').length - 1);
  return m.index + m[0].length;
}
