import nunjucks from 'nunjucks';
import { parse as yamlParse } from 'yaml';
import { OrchError, TemplateError } from '../core/errors.js';
import { createEnvironment } from './environment.js';
import { jinjaTagToNunjucks, spaceClosingBraces } from './jinja-syntax.js';
import { pyRepr, pyTruthy } from './python.js';
import type { VarScope } from './scope.js';
import { Undefined } from './undefined.js';
import { ANSIBLE_DEFAULTS, prepare, readOverrides, trailingNewlines, type JinjaOptions } from './whitespace.js';

/*
 * Rendering: template text to a string (renderText), an expression or a playbook string to a value
 * (evalExpression, renderString, renderValue), a condition to a boolean (evalCondition).
 */
const { env, includes } = createEnvironment(renderForLookup);

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

/**
 * nunjucks wraps an error thrown inside a template (an undefined variable, a filter's) in its own, built from
 * the message alone; the original, with its class and hint, is its `cause` (the environment's dev option).
 */
function unwrapError(err: unknown, src: string): OrchError {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause)
    if (e instanceof OrchError) return e;
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
    throw unwrapError(err, src);
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
