/**
 * The variable names a Jinja text reads, found without rendering it (for the undefined-name check before a run).
 * Conservative by design: a name is reported only where it is surely read as a variable — not an attribute
 * (`a.b`), a filter or test name, a function called (`lookup(…)`), a keyword argument, a local of the
 * template (`{% for %}`, `{% set %}`, macro arguments) or a Jinja keyword. A name is `guarded` where the text
 * itself allows it to be missing: `x | default(…)`, `x is defined`, `x is undefined`.
 */
export interface NamesRead {
  used: Set<string>;
  guarded: Set<string>;
}

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'is',
  'if',
  'else',
  'elif',
  'endif',
  'for',
  'endfor',
  'set',
  'endset',
  'macro',
  'endmacro',
  'call',
  'endcall',
  'filter',
  'endfilter',
  'true',
  'false',
  'none',
  'True',
  'False',
  'None',
  'loop',
  'recursive',
  'import',
  'from',
  'as',
  'with',
  'without',
  'context',
  'include',
  'block',
  'endblock',
  'extends',
  'raw',
  'endraw',
  'ignore',
  'missing',
  'super',
  'caller',
  'varargs',
  'kwargs',
  'self',
  'do',
  'break',
  'continue',
]);

const TOKEN =
  /\s*(?:('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(\d[\w.]*)|([A-Za-z_]\w*)|(==|!=|<=|>=|\/\/|\*\*|[^\s\w]))/gy;

interface Token {
  kind: 'str' | 'num' | 'id' | 'op';
  text: string;
}

function tokens(expr: string): Token[] {
  const out: Token[] = [];
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (TOKEN.lastIndex < expr.length && (m = TOKEN.exec(expr)) !== null) {
    if (m[1] !== undefined) out.push({ kind: 'str', text: m[1] });
    else if (m[2] !== undefined) out.push({ kind: 'num', text: m[2] });
    else if (m[3] !== undefined) out.push({ kind: 'id', text: m[3] });
    else if (m[4] !== undefined) out.push({ kind: 'op', text: m[4] });
  }
  return out;
}

/** Index after `a.b[c](d)` chains that follow a name. */
function afterChain(t: Token[], i: number): number {
  let j = i + 1;
  for (;;) {
    const tok = t[j];
    if (tok?.text === '.' && t[j + 1]?.kind === 'id') j += 2;
    else if (tok?.text === '[' || (tok?.text === '(' && j > i + 1)) {
      const close = tok.text === '[' ? ']' : ')';
      let depth = 0;
      for (; j < t.length; j++) {
        if (t[j]?.text === tok.text) depth++;
        else if (t[j]?.text === close && --depth === 0) break;
      }
      j++;
    } else return j;
  }
}

/** Names one expression (or statement) reads, with the template's locals left out. */
function scanExpression(expr: string, locals: Set<string>, out: NamesRead): void {
  const t = tokens(expr);
  const head = t[0]?.text;
  // statements that define locals: for X, Y in …; set X = …; macro M(A, B=…)
  if (head === 'for') {
    for (let j = 1; j < t.length && t[j]?.text !== 'in'; j++) if (t[j]?.kind === 'id') locals.add(t[j]?.text as string);
  } else if (head === 'set' || head === 'macro') {
    for (let j = 1; j < t.length && t[j]?.text !== '=' && !(head === 'macro' && t[j]?.text === ')'); j++)
      if (t[j]?.kind === 'id') locals.add(t[j]?.text as string);
  }
  let depth = 0;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i] as Token;
    if (tok.text === '(' || tok.text === '[' || tok.text === '{') depth++;
    if (tok.text === ')' || tok.text === ']' || tok.text === '}') depth--;
    if (tok.kind !== 'id' || KEYWORDS.has(tok.text) || locals.has(tok.text)) continue;
    const prev = t[i - 1]?.text;
    const next = t[i + 1]?.text;
    if (prev === '.' || prev === '|' || prev === 'is' || (prev === 'not' && t[i - 2]?.text === 'is')) continue;
    if (next === '(') continue; // a function: lookup, query, range, dict...
    if (next === '=' && depth > 0) continue; // a keyword argument
    if (
      next === ':' &&
      depth > 0 &&
      t
        .slice(0, i)
        .reverse()
        .find((x) => ['{', '[', '('].includes(x.text))?.text === '{'
    )
      continue; // {a: 1}
    out.used.add(tok.text);
    const after = afterChain(t, i);
    const a = t[after]?.text;
    const b = t[after + 1]?.text;
    const c = t[after + 2]?.text;
    if (
      (a === '|' && (b === 'default' || b === 'd')) ||
      (a === 'is' && (b === 'defined' || b === 'undefined' || (b === 'not' && (c === 'defined' || c === 'undefined'))))
    ) {
      out.guarded.add(tok.text);
    }
  }
}

/** Names read by a text with {{ }} / {% %} tags (a template, or a playbook string). */
export function namesInTemplate(text: string, out: NamesRead = { used: new Set(), guarded: new Set() }): NamesRead {
  const locals = new Set<string>();
  const tag = /\{\{([\s\S]*?)\}\}|\{%-?([\s\S]*?)-?%\}/g;
  for (const m of text.replace(/\{#[\s\S]*?#\}/g, '').matchAll(tag)) scanExpression(m[1] ?? m[2] ?? '', locals, out);
  return out;
}

/** Names read by a bare expression (when:, changed_when:, failed_when:, until:). */
export function namesInExpression(expr: string, out: NamesRead = { used: new Set(), guarded: new Set() }): NamesRead {
  if (expr.includes('{{') || expr.includes('{%')) return namesInTemplate(expr, out);
  scanExpression(expr, new Set(), out);
  return out;
}
