import nunjucks from 'nunjucks';
import { TemplateError } from '../core/errors.js';
import { now } from './datetime.js';
import { makeFilters } from './filters.js';
import { IncludeLoader } from './includes.js';
import { jinjaTagToNunjucks } from './jinja-syntax.js';
import { lookupPlugins, type LookupRenderer } from './lookups.js';
import { patchNunjucks, type NunjucksContext } from './nunjucks-patches.js';
import { PySlice } from './slices.js';
import { tests } from './tests.js';
import { Undefined } from './undefined.js';

/** orch's nunjucks environment: Ansible's filters, tests and globals (True, range, lookup, query...). */
export interface Environment {
  env: nunjucks.Environment;
  /** where `{% include %}` looks during the render in progress (set around each render by env.ts) */
  includes: IncludeLoader;
}

/**
 * A filter given an undefined value fails, as any use of Jinja's StrictUndefined does (`missing | bool` was
 * false, silently); only the filters made for undefined values take one.
 */
const TAKES_UNDEFINED = new Set(['default', 'd', 'mandatory']);

/**
 * renderTemplate: how lookup('template') renders a file (env.ts renders, and builds the environment with it).
 * Whitespace (trim_blocks, lstrip_blocks, markers, comments) is Jinja2's, applied by whitespace.ts before nunjucks.
 */
export function createEnvironment(renderTemplate: LookupRenderer): Environment {
  const includes = new IncludeLoader((inner) => jinjaTagToNunjucks(inner));
  // dev: an error nunjucks wraps keeps the one thrown inside the template as its `cause` (env.ts unwrapError)
  // (a loader may answer null for "not here"; nunjucks' typings say it must not)
  const env = new nunjucks.Environment(includes as unknown as nunjucks.ILoader, {
    autoescape: false,
    throwOnUndefined: false,
    trimBlocks: false,
    lstripBlocks: false,
    dev: true,
  });
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
  const lookup = (asList: boolean) =>
    function (this: NunjucksContext, name: string, ...args: unknown[]) {
      return lookupPlugins(this.ctx.__orch_vars, name, args, asList, renderTemplate);
    };
  env.addGlobal('lookup', lookup(false));
  env.addGlobal('query', lookup(true));
  env.addGlobal('q', lookup(true));
  const globals: Record<string, unknown> = {
    True: true,
    False: false,
    None: null,
    now,
    __orch_slice: (a: unknown, b: unknown, c: unknown) => new PySlice(a, b, c),
  };
  for (const [k, v] of Object.entries(globals)) env.addGlobal(k, v);
  return { env, includes };
}
