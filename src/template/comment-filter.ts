import { TemplateError } from '../core/errors.js';

/** Ansible's `comment` filter (plugins/filter/core.py), used as `{{ ansible_managed | comment }}`. */

const STYLES: Record<string, Record<string, string>> = {
  plain: { decoration: '# ' },
  erlang: { decoration: '% ' },
  c: { decoration: '// ' },
  cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
  xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
};

export function comment(text: unknown, style: unknown = 'plain', ...rest: unknown[]): string {
  let kw: Record<string, unknown> = {};
  const last = rest[rest.length - 1];
  if (style && typeof style === 'object' && (style as { __keywords?: boolean }).__keywords) {
    kw = style as Record<string, unknown>;
    style = kw.style ?? 'plain';
  } else if (last && typeof last === 'object' && (last as { __keywords?: boolean }).__keywords)
    kw = last as Record<string, unknown>;
  const styleParams = STYLES[String(style)];
  if (!styleParams) throw new TemplateError(`comment: unknown style '${String(style)}'`);
  const prepostfix = String(kw.decoration ?? styleParams.decoration);
  const p: Record<string, unknown> = {
    newline: '\n',
    beginning: '',
    prefix: prepostfix.trimEnd(),
    prefix_count: 1,
    decoration: '',
    postfix: prepostfix.trimEnd(),
    postfix_count: 1,
    end: '',
    ...styleParams,
  };
  for (const [k, v] of Object.entries(kw)) if (k !== '__keywords' && k !== 'style') p[k] = v;
  const nl = String(p.newline);
  const deco = String(p.decoration);
  const beginning = p.beginning ? `${String(p.beginning)}${nl}` : '';
  const prefix = p.prefix ? (p.prefix !== nl ? `${String(p.prefix)}${nl}` : nl).repeat(Number(p.prefix_count)) : '';
  const body = `${deco}${String(text).split(nl).join(`${nl}${deco}`)}`
    .split(`${deco}${nl}`)
    .join(`${deco.trimEnd()}${nl}`);
  const postfix = ['', ...Array.from({ length: Number(p.postfix_count) }, () => String(p.postfix))].join(nl);
  const end = p.end ? `${nl}${String(p.end)}` : '';
  return `${beginning}${prefix}${body}${postfix}${end}`;
}
