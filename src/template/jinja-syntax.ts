import { rewriteSlices } from './slices.js';

/*
 * Jinja2 source rewritten for nunjucks before nunjucks reads it: syntax its lexer and parser do not take.
 * (Whitespace control and comments are whitespace.ts's; patches to nunjucks' own objects, nunjucks-patches.ts.)
 */

/**
 * Jinja2 syntax nunjucks' parser does not take, rewritten inside one tag (never inside quotes):
 * a test's one argument without parentheses (`x is sameas true`) and numeric attributes (`item.0`).
 */
const BARE_TEST_ARG =
  /\bis\s+(not\s+)?(sameas|divisibleby|equalto|eq|ne|lt|gt|ge|le|greaterthan|lessthan)\s+(?![\s(])([A-Za-z_][\w.]*|-?\d+(?:\.\d+)?)/g;
/** Jinja2's `in` test (`x is in seq`, `x is not in seq`): the `in` operator, which nunjucks has. */
const IN_TEST = /\bis\s+(not\s+)?in\b/g;
const NUMERIC_ATTR = /([A-Za-z_]\w*|\]|\))\.(\d+)\b/g;
const STRING_LITERAL = /('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/;

const PY_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
};

/**
 * A Jinja2 string literal read as Python reads it (unicode-escape: `\n`, `\x41`, `\u00e9`, octal; an unknown
 * escape such as `\d` keeps its backslash) and written back for nunjucks, whose lexer knows only \n \t \r and
 * drops the backslash of any other escape (a regex `'\d+'` would become `'d+'`).
 */
export function pyStringLiteralForNunjucks(literal: string): string {
  const q = literal[0] ?? "'";
  const value = literal
    .slice(1, -1)
    .replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g, (whole, e: string) => {
      if (/^[xuU]/.test(e) && e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
      if (/^[0-7]+$/.test(e)) return String.fromCodePoint(parseInt(e, 8));
      return PY_ESCAPES[e] ?? whole;
    });
  return (
    q +
    value
      .replace(/\\/g, '\\\\')
      .replace(new RegExp(q, 'g'), `\\${q}`)
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t') +
    q
  );
}

/**
 * rawStrings: Ansible's escape_backslashes for strings of a playbook (not template files, not conditions):
 * inside {{ }} a string literal's backslashes are doubled before Jinja reads it, so `'\1'` stays backslash-one.
 */
export function jinjaTagToNunjucks(body: string, rawStrings = false): string {
  if (
    !body.includes('.') &&
    !body.includes(' is ') &&
    !body.includes('\\') &&
    !(body.includes('[') && body.includes(':'))
  )
    return body;
  const literal = (part: string) =>
    !part.includes('\\') ? part : rawStrings ? part.replace(/\\/g, '\\\\') : pyStringLiteralForNunjucks(part);
  return body
    .split(STRING_LITERAL)
    .map((part, i) =>
      i % 2 === 1
        ? literal(part)
        : rewriteSlices(
            part
              .replace(IN_TEST, (_m, not?: string) => (not ? 'not in' : 'in'))
              .replace(BARE_TEST_ARG, 'is $1$2($3)')
              .replace(NUMERIC_ATTR, '$1[$2]'),
            i > 0,
          ),
    )
    .join('');
}

/**
 * `}}` inside an expression (a nested dict literal: {'a': {'x': 1}}) would end nunjucks' variable tag,
 * where Jinja's lexer counts braces: the two braces get a space between them, outside string literals.
 */
export function spaceClosingBraces(expr: string): string {
  if (!expr.includes('}}')) return expr;
  let out = '';
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i] as string;
    out += c;
    if (quote) {
      if (c === '\\') out += expr[++i] ?? '';
      else if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '}' && expr[i + 1] === '}') out += ' ';
  }
  return out;
}
