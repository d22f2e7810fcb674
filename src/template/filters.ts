/** Ansible's filters (the common ones), written for nunjucks. Registered by environment.ts. */
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, dirname } from 'node:path';
import { stringify as yamlStringify, parse as yamlParse } from 'yaml';
import { TemplateError } from '../core/errors.js';
import { quote } from '../transport/quote.js';
import { comment } from './comment-filter.js';
import { strftimeFilter, toDatetime } from './datetime.js';
import { pythonRegExp } from '../modules/pyregex.js';
import { pyRepr, pyTruthy } from './python.js';
import { isUndefined, Undefined } from './undefined.js';
import { attr, combine, list, sameValue, uniq } from './collections.js';
import { pyFormat, pyJson, pyTypeName, sortKeys } from './python-format.js';

type Filter = (value: unknown, ...args: unknown[]) => unknown;

function toBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return ['yes', 'on', '1', 'true', 'y', 't'].includes(v.trim().toLowerCase());
  return false;
}

function toInt(v: unknown, dflt: unknown = 0, base: unknown = 10): number {
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = typeof v === 'number' ? Math.trunc(v) : parseInt(String(v), Number(base));
  return Number.isNaN(n) ? Number(dflt) : n;
}

function pyRegex(pattern: unknown, flags = ''): RegExp {
  // Python's named groups, inline flags ((?i) at the start), \A and \Z, as JavaScript's
  return pythonRegExp(String(pattern), flags);
}

/** Keyword arguments (nunjucks passes them last, marked __keywords) put at their named positions. */
function kwargs(names: string[], f: Filter): Filter {
  return (v, ...args) => {
    const last = args[args.length - 1] as Record<string, unknown> | undefined;
    if (last && typeof last === 'object' && !Array.isArray(last) && last.__keywords) {
      args.pop();
      names.forEach((n, i) => {
        if (n in last) args[i] = last[n];
      });
    }
    return f(v, ...args);
  };
}

function reFlags(ignorecase: unknown, multiline: unknown, global = ''): string {
  return `${global}${ignorecase === true ? 'i' : ''}${multiline === true ? 'm' : ''}`;
}

function hashOf(value: unknown, algo: unknown = 'sha1'): string {
  return createHash(String(algo)).update(String(value)).digest('hex');
}

export function makeFilters(
  callFilter: (name: string, v: unknown, args: unknown[]) => unknown,
  callTest: (name: string, v: unknown, args: unknown[]) => boolean,
): Record<string, Filter> {
  return {
    comment,
    strftime: (fmt, second = null, utc = false) => strftimeFilter(fmt, second, utc),
    to_datetime: (v, format = '%Y-%m-%d %H:%M:%S') => {
      try {
        return toDatetime(v, format);
      } catch (err) {
        throw new TemplateError((err as Error).message);
      }
    },
    default: (v, dflt = '', boolean = false) => (isUndefined(v) || (boolean === true && !pyTruthy(v)) ? dflt : v),
    d: (v, dflt = '', boolean = false) => (isUndefined(v) || (boolean === true && !pyTruthy(v)) ? dflt : v),
    mandatory: (v, msg) => {
      if (isUndefined(v))
        throw new TemplateError(
          typeof msg === 'string'
            ? msg
            : `Mandatory variable ${v instanceof Undefined ? `'${v.name}' ` : ''}not defined.`,
        );
      return v;
    },
    bool: (v) => toBool(v),
    int: (v, dflt = 0, base = 10) => toInt(v, dflt, base),
    float: (v, dflt = 0) => {
      const n = parseFloat(String(v));
      return Number.isNaN(n) ? Number(dflt) : n;
    },
    string: (v) => pyRepr(v),
    abs: (v) => Math.abs(Number(v)),
    round: (v, precision = 0, method = 'common') => {
      const f = 10 ** Number(precision);
      const x = Number(v) * f;
      return (method === 'floor' ? Math.floor(x) : method === 'ceil' ? Math.ceil(x) : Math.round(x)) / f;
    },
    to_json: (v) => pyJson(v),
    // Ansible's to_nice_json: json.dumps(indent=4, sort_keys=True)
    to_nice_json: kwargs(['indent'], (v, indent = 4) => JSON.stringify(sortKeys(v), null, Number(indent))),
    from_json: (v) => JSON.parse(String(v)),
    to_yaml: (v) => yamlStringify(v, { version: '1.1' }),
    // PyYAML's dump as Ansible calls it: indent 4, sequences not indented under their key
    to_nice_yaml: kwargs(['indent'], (v, indent = 4) =>
      yamlStringify(v, { version: '1.1', indent: Number(indent), indentSeq: false }),
    ),
    type_debug: (v) => pyTypeName(v),
    format: (v, ...args) => pyFormat(String(v), args),
    splitext: (v) => {
      const s = String(v);
      const m = /^(.*?[^/.][^/]*?)(\.[^./]*)$/.exec(s);
      return m ? [m[1], m[2]] : [s, ''];
    },
    expanduser: (v) => String(v).replace(/^~(?=\/|$)/, homedir()),
    log: (v, base?: unknown) =>
      base === undefined ? Math.log(Number(v)) : Math.log(Number(v)) / Math.log(Number(base)),
    pow: (v, x) => Number(v) ** Number(x),
    root: (v, base = 2) => (Number(base) === 2 ? Math.sqrt(Number(v)) : Number(v) ** (1 / Number(base))),
    from_yaml: (v) => yamlParse(String(v), { version: '1.1' }),
    b64encode: (v) => Buffer.from(String(v), 'utf8').toString('base64'),
    b64decode: (v) => Buffer.from(String(v), 'base64').toString('utf8'),
    basename: (v) => basename(String(v)),
    dirname: (v) => dirname(String(v)),
    hash: (v, algo = 'sha1') => hashOf(v, algo),
    md5: (v) => hashOf(v, 'md5'),
    sha1: (v) => hashOf(v, 'sha1'),
    checksum: (v) => hashOf(v, 'sha1'),
    quote: (v) => quote(String(v)),
    regex_replace: (v, pattern, replacement = '', ignorecase = false, multiline = false) =>
      String(v).replace(
        pyRegex(pattern, reFlags(ignorecase, multiline, 'g')),
        String(replacement)
          .replace(/\\(\d)/g, '$$$1')
          .replace(/\\g<(\w+)>/g, '$$<$1>'),
      ),
    regex_search: (v, pattern, ...groups) => {
      const m = pyRegex(pattern).exec(String(v));
      if (!m) return null;
      if (groups.length === 0) return m[0];
      return groups.map((g) =>
        typeof g === 'string' && g.startsWith('\\') ? m[Number(g.slice(1))] : m.groups?.[String(g)],
      );
    },
    regex_findall: (v, pattern, ignorecase = false, multiline = false) => {
      const out: unknown[] = [];
      for (const m of String(v).matchAll(pyRegex(pattern, reFlags(ignorecase, multiline, 'g'))))
        out.push(m.length > 2 ? m.slice(1) : (m[1] ?? m[0]));
      return out;
    },
    regex_escape: (v) => String(v).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    ternary: (v, yes, no, none) => (v === null && none !== undefined ? none : pyTruthy(v) ? yes : no),
    combine: (v, ...more) => combine(v, ...more),
    dict2items: kwargs(['key_name', 'value_name'], (v, keyName = 'key', valueName = 'value') =>
      Object.entries((v ?? {}) as Record<string, unknown>).map(([k, x]) => ({
        [String(keyName)]: k,
        [String(valueName)]: x,
      })),
    ),
    items2dict: kwargs(['key_name', 'value_name'], (v, keyName = 'key', valueName = 'value') =>
      Object.fromEntries(list(v).map((i) => [String(attr(i, keyName)), attr(i, valueName)])),
    ),
    union: (a, b) => uniq([...list(a), ...list(b)]),
    difference: (a, b) => uniq(list(a).filter((x) => !list(b).some((y) => sameValue(x, y)))),
    intersect: (a, b) => uniq(list(a).filter((x) => list(b).some((y) => sameValue(x, y)))),
    symmetric_difference: (a, b) =>
      uniq([
        ...list(a).filter((x) => !list(b).some((y) => sameValue(x, y))),
        ...list(b).filter((x) => !list(a).some((y) => sameValue(x, y))),
      ]),
    unique: (v) => uniq(list(v)),
    flatten: kwargs(['levels', 'skip_nulls'], (v, levels?: unknown, skipNulls = true) =>
      (list(v) as unknown[])
        .flat(typeof levels === 'number' ? levels : Infinity)
        .filter((x) => x !== null || skipNulls === false),
    ),
    list: (v) => list(v),
    dict: (v) => Object.fromEntries(list(v) as [string, unknown][]),
    zip: (a, ...rest) => list(a).map((x, i) => [x, ...rest.map((r) => list(r)[i])]),
    min: (v) => list(v).reduce((a, b) => ((a as number) <= (b as number) ? a : b)),
    max: (v) => list(v).reduce((a, b) => ((a as number) >= (b as number) ? a : b)),
    sum: (v, _attribute, start = 0) => list(v).reduce<number>((a, b) => a + Number(b), Number(start)),
    split: (v, sep = ' ', max?: unknown) => {
      const parts = String(v).split(String(sep));
      return typeof max === 'number' ? [...parts.slice(0, max), parts.slice(max).join(String(sep))] : parts;
    },
    map: (v, name, ...args) => {
      if (name && typeof name === 'object' && 'attribute' in (name as object)) {
        const spec = name as { attribute: unknown; default?: unknown };
        return list(v).map((x) => attr(x, spec.attribute) ?? spec.default);
      }
      if (name === 'attribute' || (args.length === 0 && typeof name === 'string' && name.includes('.')))
        return list(v).map((x) => attr(x, args[0] ?? name));
      return list(v).map((x) => callFilter(String(name), x, args));
    },
    select: (v, test = 'truthy', ...args) => list(v).filter((x) => callTest(String(test), x, args)),
    reject: (v, test = 'truthy', ...args) => list(v).filter((x) => !callTest(String(test), x, args)),
    selectattr: (v, name, test = 'truthy', ...args) =>
      list(v).filter((x) => callTest(String(test), attr(x, name), args)),
    rejectattr: (v, name, test = 'truthy', ...args) =>
      list(v).filter((x) => !callTest(String(test), attr(x, name), args)),
    extract: (key, container, ...more) => {
      let v =
        container && typeof container === 'object' ? (container as Record<string, unknown>)[String(key)] : undefined;
      for (const k of more) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[String(k)] : undefined;
      return v;
    },
    json_query: () => {
      throw new TemplateError('json_query (jmespath) is not supported by orch', {
        hint: 'Use selectattr/map instead.',
      });
    },
  };
}
