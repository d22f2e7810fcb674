import nunjucks from 'nunjucks';
import { parse as yamlParse } from 'yaml';
import { OrchError, TemplateError } from '../core/errors.js';
import { makeFilters } from './filters.js';
import { pyRepr, pyTruthy } from './python.js';
import type { VarScope } from './scope.js';
import { tests } from './tests.js';
import { now } from './datetime.js';
import { rememberError, takeRememberedError, Undefined } from './undefined.js';
import { lookupPlugins, setLookupRenderer } from './lookups.js';
import { IncludeLoader } from './includes.js';
import { patchNunjucks, type NunjucksContext } from './nunjucks-patches.js';
import { PySlice, rewriteSlices } from './slices.js';
import { ANSIBLE_DEFAULTS, prepare, readOverrides, trailingNewlines, type JinjaOptions } from './whitespace.js';

// Whitespace (trim_blocks, lstrip_blocks, markers, comments) is Jinja2's, applied by whitespace.ts before nunjucks.
const includes = new IncludeLoader((inner) => jinjaTagToNunjucks(inner));
// (a loader may answer null for "not here"; nunjucks' typings say it must not)
export const env = new nunjucks.Environment(includes as unknown as nunjucks.ILoader, {
  autoescape: false,
  throwOnUndefined: false,
  trimBlocks: false,
  lstripBlocks: false,
});

const globals: Record<string, unknown> = {
  True: true,
  False: false,
  None: null,
  now,
  __orch_slice: (a: unknown, b: unknown, c: unknown) => new PySlice(a, b, c),
};

patchNunjucks(env);

const filterTable = makeFilters(
  (name, v, args) => {
    const f = env.getFilter(name) as (...a: unknown[]) => unknown;
    return f(v, ...args);
  },
  (name, v, args) => {
    const t = (tests as Record<string, ((...a: unknown[]) => boolean) | undefined>)[name];
    if (!t) throw new TemplateError(`no test named '${name}'`);
    return t(v, ...args);
  },
);
// A filter given an undefined value fails, as any use of Jinja's StrictUndefined does (`missing | bool` was
// false, silently); only the filters made for undefined values take one.
const TAKES_UNDEFINED = new Set(['default', 'd', 'mandatory']);
for (const [name, f] of Object.entries(filterTable)) {
  env.addFilter(
    name,
    TAKES_UNDEFINED.has(name)
      ? f
      : (v: unknown, ...args: unknown[]) => {
          if (v instanceof Undefined) v.fail();
          return f(v, ...args);
        },
  );
}
for (const [name, t] of Object.entries(tests))
  (env as unknown as { addTest(n: string, f: unknown): void }).addTest(name, t);

setLookupRenderer((text, scope, over, searchPath, convertData) =>
  renderForLookup(text, scope, over, searchPath, convertData),
);

// evalExpression's way out of a render: the value lands in the box that render was given (no module state)
env.addGlobal('__orch_capture', function (this: NunjucksContext, v: unknown) {
  const box = (this.ctx as { __orch_box?: { value: unknown } }).__orch_box;
  if (box) box.value = v;
  return '';
});
env.addGlobal('range', (a: number, b?: number, step = 1) => {
  const [start, end] = b === undefined ? [0, a] : [a, b];
  const out: number[] = [];
  for (let i = start; step > 0 ? i < end : i > end; i += step) out.push(i);
  return out;
});
env.addGlobal('lookup', function (this: NunjucksContext, name: string, ...args: unknown[]) {
  return lookupPlugins(this.ctx.__orch_vars, name, args, false);
});
env.addGlobal('query', function (this: NunjucksContext, name: string, ...args: unknown[]) {
  return lookupPlugins(this.ctx.__orch_vars, name, args, true);
});
env.addGlobal('q', function (this: NunjucksContext, name: string, ...args: unknown[]) {
  return lookupPlugins(this.ctx.__orch_vars, name, args, true);
});
for (const [k, v] of Object.entries(globals)) env.addGlobal(k, v);

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
function jinjaTagToNunjucks(body: string, rawStrings = false): string {
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

interface Compiled {
  template: nunjucks.Template;
  options: JinjaOptions;
}

const compiled = new Map<string, Compiled>();
function compile(src: string, base: JinjaOptions, escapeBackslashes = false): Compiled {
  const key = `${escapeBackslashes ? 'E' : ''}${base === ANSIBLE_DEFAULTS ? src : `${JSON.stringify(base)}\0${src}`}`;
  let c = compiled.get(key);
  if (!c) {
    const { body, options } = readOverrides(src, base);
    const { source } = prepare(body, options, (inner, kind) =>
      jinjaTagToNunjucks(inner, escapeBackslashes && kind === 'variable'),
    );
    c = { template: new nunjucks.Template(source, env, undefined, true), options };
    if (compiled.size > 5000) compiled.clear();
    compiled.set(key, c);
  }
  return c;
}

function unwrapError(err: unknown, src: string): OrchError {
  const ours = takeRememberedError();
  if (ours) return ours;
  if (err instanceof OrchError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const clean = msg
    .replace(/^\(unknown path\)\s*/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return new TemplateError(`template error in "${src.length > 120 ? `${src.slice(0, 117)}...` : src}": ${clean}`);
}

export interface RenderOptions {
  /** Jinja environment settings (the template module's trim_blocks, lstrip_blocks, newline_sequence...). */
  jinja?: JinjaOptions;
  /** Variables that win over the play's (the template module's ansible_managed, template_*). */
  over?: Record<string, unknown>;
  /** Where `{% include %}` looks (default: the scope's lookup paths). */
  searchPath?: readonly string[];
  /** a playbook's string (task arguments, variables): Ansible's escape_backslashes (see jinjaTagToNunjucks) */
  escapeBackslashes?: boolean;
}

/**
 * Render template text to a string as Ansible's Templar.do_template does: a `#jinja2:` first line overrides
 * the environment, Jinja2 drops the source's last newline, and Ansible puts back as many trailing newlines
 * as the source had (preserve_trailing_newlines).
 */
export function renderText(
  src: string,
  scope: VarScope | undefined,
  extra: Record<string, unknown> = {},
  opts: RenderOptions = {},
): string {
  const { out, restoreNewlines } = renderJinja(src, scope, extra, opts);
  return restoreNewlines(out);
}

function renderJinja(
  src: string,
  scope: VarScope | undefined,
  extra: Record<string, unknown>,
  opts: RenderOptions,
): { out: string; restoreNewlines: (s: string) => string } {
  try {
    takeRememberedError(); // a failure from an earlier render must not stand in for this one's
    const c = compile(src, opts.jinja ?? ANSIBLE_DEFAULTS, opts.escapeBackslashes === true);
    const outer = includes.current;
    includes.current = { paths: opts.searchPath ?? scope?.lookupPaths ?? [], options: c.options };
    let out: string;
    try {
      // On top of the play's variables, so a variable templated lazily (`motd: "{{ ansible_managed }}"`) sees them too.
      const vars =
        opts.over && scope ? scope.with({ name: 'template module', vars: opts.over, templated: false }) : scope;
      out = c.template.render({ ...extra, __orch_vars: vars, __orch_over: opts.over });
    } finally {
      includes.current = outer;
    }
    const want = trailingNewlines(src);
    return {
      out,
      restoreNewlines: (s) => s + c.options.newlineSequence.repeat(Math.max(0, want - trailingNewlines(s))),
    };
  } catch (err) {
    throw rememberError(unwrapError(err, src));
  }
}

/**
 * lookup('template'): text without any Jinja delimiter is returned as it is (Templar.template skips it);
 * otherwise convert_data is on, so output that reads as a list, dict or bool becomes one (before the trailing
 * newlines are put back, as ansible_eval_concat runs first).
 */
function renderForLookup(
  src: string,
  scope: VarScope | undefined,
  over: Record<string, unknown>,
  searchPath: readonly string[],
  convertData: boolean,
): unknown {
  if (!/\{[{%#]/.test(src)) return src;
  const { out, restoreNewlines } = renderJinja(src, scope, {}, { over, searchPath });
  if (!convertData) return restoreNewlines(out);
  if (out === 'True' || out === 'False') return out === 'True';
  if (out.startsWith('{') || out.startsWith('[')) {
    try {
      const v: unknown = yamlParse(out, { version: '1.1' });
      if (v !== null && typeof v === 'object') return v;
    } catch {
      // not a literal: text, as in Ansible
    }
  }
  return restoreNewlines(out);
}

/** Evaluate a bare Jinja expression (as in `when:`) to its native value. */
/**
 * `}}` inside an expression (a nested dict literal: {'a': {'x': 1}}) would end nunjucks' variable tag,
 * where Jinja's lexer counts braces: the two braces get a space between them, outside string literals.
 */
function spaceClosingBraces(expr: string): string {
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

export function evalExpression(expr: string, scope: VarScope | undefined, opts: RenderOptions = {}): unknown {
  const box: { value: unknown } = { value: undefined };
  renderText(`{{ __orch_capture((${spaceClosingBraces(expr)})) }}`, scope, { __orch_box: box }, opts);
  return box.value;
}

const PLAYBOOK_STRING: RenderOptions = { escapeBackslashes: true };

const SINGLE_EXPR = /^\s*\{\{((?:(?!\{\{|\}\}).)*)\}\}\s*$/s;

export function hasTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%') || s.includes('{#');
}

/** Template a string: a string that is one `{{ expr }}` keeps a list, dict or boolean (a bare variable: any value). */
export function renderString(src: string, scope: VarScope | undefined): unknown {
  if (!hasTemplate(src)) return src;
  const single = SINGLE_EXPR.exec(src);
  if (single && single[1] !== undefined) {
    const v = evalExpression(single[1], scope, PLAYBOOK_STRING);
    if (v instanceof Undefined) v.fail();
    const lead = /^\s*/.exec(src)?.[0] ?? '';
    const trail = /\s*$/.exec(src)?.[0] ?? '';
    // Ansible 2.14: a bare variable name hands its value back as it is (Templar's SINGLE_VAR); any other
    // expression's value becomes text, and only text that reads as a list, dict or boolean is read back
    // (`"{{ item.port }}"` is the string '8080', `"{{ n + 1 }}"` is '6')
    if (lead === '' && trail === '') return /^\s*\w+\s*$/.test(single[1]) ? v : aroundOneExpression(v, '', '', 0);
    // Ansible's SINGLE_VAR shortcut (`$` also matches before a final newline) hands back a number as it is.
    if (typeof v === 'number' && lead === '' && trail === '\n' && /^\s*\w+\s*$/.test(single[1])) return v;
    return aroundOneExpression(v, lead, trail, trailingNewlines(src));
  }
  return renderText(src, scope, {}, PLAYBOOK_STRING);
}

/**
 * `"{{ v }}\n"` as Ansible templates it: Jinja drops the final newline, Ansible's concat reads a list, dict or
 * bool back as one (only when nothing precedes it), and the source's trailing newlines are put back on text
 * (copy's `content: "{{ v }}\n"` keeps its newline).
 */
function aroundOneExpression(v: unknown, lead: string, trail: string, newlines: number): unknown {
  if (
    lead === '' &&
    (typeof v === 'boolean' ||
      Array.isArray(v) ||
      (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype))
  )
    return v;
  const body = `${lead}${pyRepr(v instanceof nunjucks.runtime.SafeString ? v.toString() : v)}${trail.endsWith('\n') ? trail.slice(0, -1) : trail}`;
  return body + '\n'.repeat(Math.max(0, newlines - trailingNewlines(body)));
}

/** Template every string inside a value (lists and dicts are copied). */
export function renderValue(value: unknown, scope: VarScope | undefined): unknown {
  if (typeof value === 'string') return renderString(value, scope);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[hasTemplate(k) ? String(renderString(k, scope)) : k] = renderValue(v, scope);
    return out;
  }
  return value;
}

/** A `when`/`changed_when`/`failed_when` condition: a bare expression, or a list of them (all must hold). */
export function evalCondition(cond: unknown, scope: VarScope): boolean {
  const list = Array.isArray(cond) ? cond : [cond];
  for (const c of list) {
    if (typeof c === 'boolean') {
      if (!c) return false;
      continue;
    }
    let expr = String(c).trim();
    const m = SINGLE_EXPR.exec(expr);
    if (m && m[2] !== undefined) expr = m[2];
    const v = evalExpression(expr, scope);
    if (v instanceof Undefined) v.fail();
    // as Ansible 2.14's `{% if cond %}`: a non-empty string is true ('false', 'no' too); only 'False', which a
    // template's result turns back into the boolean (Ansible's literal_eval of template output), is false
    if (!pyTruthy(v === 'False' ? false : v)) return false;
  }
  return true;
}
