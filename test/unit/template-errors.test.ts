import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TemplateError } from '../../src/core/errors.js';
import { Secrets } from '../../src/core/secrets.js';
import { renderString, renderText, renderValue } from '../../src/template/env.js';
import { VarScope } from '../../src/template/scope.js';
import { UndefinedVariableError } from '../../src/template/undefined.js';
import { Unknown, UnknownValueError } from '../../src/template/unknown.js';

// The error a render raises travels with the error nunjucks wraps it in (its cause), not in module state.

function scope(vars: Record<string, unknown>, lookupPaths: string[] = []): VarScope {
  return new VarScope([{ name: 'vars', vars, templated: true }], (v, s) => renderValue(v, s), {
    lookupPaths,
    secrets: new Secrets(),
  });
}

test('an undefined variable inside a render reaches the caller as UndefinedVariableError with its variable and hint', () => {
  assert.throws(
    () => renderString('{{ 1 + missing_one }}', scope({})),
    (e: unknown) =>
      e instanceof UndefinedVariableError && e.variable === 'missing_one' && /guard it with/.test(e.hint ?? ''),
  );
});

test("an error in a template read by lookup('template') inside another render keeps its class through both renders", () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-tpl-err-'));
  writeFileSync(join(dir, 'inner.j2'), 'inner {{ missing_inside }}\n');
  const s = scope({}, [dir]);
  assert.throws(
    () => renderText("outer {{ lookup('template', 'inner.j2') }}", s),
    (e: unknown) => e instanceof UndefinedVariableError && e.variable === 'missing_inside',
  );
});

test('an unknown value swallowed by `is defined` does not stand in for a later error of the same render', () => {
  const s = scope({ later: new Unknown('depends on t (site.yml:3)') });
  assert.equal(renderString('{{ later is defined }}', s), true);
  assert.throws(
    () => renderString('{{ (later is defined) and (1 | no_such_filter) }}', s),
    (e: unknown) => e instanceof TemplateError && !(e instanceof UnknownValueError) && /no_such_filter/.test(e.message),
  );
});

test('a render error thrown while an earlier one is still unhandled is reported as itself', () => {
  const s = scope({});
  let first: unknown;
  try {
    renderString('{{ first_missing }}', s);
  } catch (err) {
    first = err;
  }
  assert.ok(first instanceof UndefinedVariableError);
  assert.throws(
    () => renderString('{{ 1 | no_such_filter }}', s),
    (e: unknown) => e instanceof TemplateError && !/first_missing/.test(e.message) && /no_such_filter/.test(e.message),
  );
});
