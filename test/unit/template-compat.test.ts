import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { renderString, renderText, renderValue } from '../../src/template/env.js';
import { VarScope } from '../../src/template/scope.js';
import { templateVars } from '../../src/template/template-vars.js';
import { ANSIBLE_DEFAULTS } from '../../src/template/whitespace.js';
import { Secrets } from '../../src/core/secrets.js';

// Each case of test/fixtures/template-compat/cases.yml rendered by orch's template engine with the module's
// options, byte for byte against what Ansible 2.14's template module wrote (expected/, made by generate.sh).
const DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures', 'template-compat');
const TEMPLATES = join(DIR, 'templates');
const OUT_DIR = '/tmp/orch-template-compat';
interface Case {
  name: string;
  src: string;
  trim_blocks?: boolean;
  lstrip_blocks?: boolean;
  newline_sequence?: string;
  output_encoding?: string;
}
const vars = parse(readFileSync(join(DIR, 'cases.yml'), 'utf8'), { version: '1.1' }) as Record<string, unknown> & {
  cases: Case[];
};
const scope = new VarScope([{ name: 'vars', vars, templated: true }], (v, s) => renderValue(v, s), {
  lookupPaths: [TEMPLATES],
  secrets: new Secrets(),
});
const sha1 = (b: string | Buffer) => createHash('sha1').update(b).digest('hex');
const expected = (name: string) => readFileSync(join(DIR, 'expected', name));

for (const c of vars.cases) {
  test(`template module output is Ansible's, byte for byte: ${c.name}`, () => {
    const full = join(TEMPLATES, c.src);
    const out = renderText(
      readFileSync(full, 'utf8'),
      scope,
      {},
      {
        jinja: {
          ...ANSIBLE_DEFAULTS,
          trimBlocks: c.trim_blocks ?? true,
          lstripBlocks: c.lstrip_blocks ?? false,
          newlineSequence: c.newline_sequence ?? '\n',
        },
        over: templateVars(c.src, full, `${OUT_DIR}/${c.name}`),
        searchPath: [TEMPLATES],
      },
    );
    const want = expected(c.name);
    const bytes = Buffer.from(out, c.output_encoding === 'latin-1' ? 'latin1' : 'utf8');
    if (!c.output_encoding) assert.equal(JSON.stringify(out), JSON.stringify(want.toString('utf8')));
    assert.equal(sha1(bytes), sha1(want));
  });
}

test("lookup('template') output is Ansible's, byte for byte (trailing newline kept, comment line dropped)", () => {
  const out = String(renderString("{{ lookup('template', 'lookup.j2') }}", scope));
  assert.equal(JSON.stringify(out), JSON.stringify(expected('lookup').toString('utf8')));
});

test("lookup('template') converts like Ansible: a list stays a list, text without Jinja comes back untouched (CRLF and all)", () => {
  const play = parse(readFileSync(join(DIR, 'render.yml'), 'utf8')) as {
    tasks: { name: string; copy?: { content: string } }[];
  }[];
  const content = play[0]?.tasks.find((t) => t.name === "lookup('template') with convert_data")?.copy?.content ?? '';
  assert.match(content, /lookup-list/);
  assert.equal(
    JSON.stringify(renderString(content, scope)),
    JSON.stringify(expected('lookup-convert').toString('utf8')),
  );
});

test('ansible_managed and template_* are seen by variables templated lazily, and win over a play variable of the same name', () => {
  const full = join(TEMPLATES, 'vars.j2');
  const s2 = scope.with({
    name: 'play',
    vars: { header: '# {{ ansible_managed }} ({{ template_path }})', template_path: 'mine' },
    templated: true,
  });
  const out = renderText('{{ header }}', s2, {}, { over: templateVars('vars.j2', full, '/x') });
  assert.equal(out, '# Ansible managed (vars.j2)');
});

test("template_uid is the template file's owner by name, as Ansible's pwd lookup gives it", () => {
  const owner = execFileSync('stat', ['-c', '%U', join(TEMPLATES, 'vars.j2')], { encoding: 'utf8' }).trim();
  assert.equal(templateVars('vars.j2', join(TEMPLATES, 'vars.j2'), null).template_uid, owner);
});

test('every expected file has a case (the fixtures and cases.yml agree)', () => {
  const names = [...vars.cases.map((c) => c.name), 'lookup', 'lookup-convert'].sort();
  assert.deepEqual(readdirSync(join(DIR, 'expected')).sort(), names);
  assert.match(readFileSync(join(DIR, 'expected.version'), 'utf8'), /core 2\.14/);
});

test("lookup('file') and lookup('pipe') strip every trailing blank as Ansible's rstrip() does; lookup options are read, not ignored", () => {
  assert.equal(renderString("{{ lookup('file', 'trailing-3.j2') }}", scope), 'value');
  assert.equal(renderString("{{ lookup('file', 'trailing-3.j2', rstrip=False) }}", scope), 'value\n\n\n');
  assert.equal(renderString("{{ lookup('pipe', 'printf \"a \\n\\n\"') }}", scope), 'a');
  assert.deepEqual(renderString("{{ lookup('file', 'trailing-0.j2', wantlist=True) }}", scope), [
    'value {{ ssh_port }}',
  ]);
  assert.equal(
    renderString("{{ lookup('template', 'trailing-0.j2', template_vars={'ssh_port': 1}) }}", scope),
    'value 1',
  );
  assert.equal(renderString("{{ lookup('template', 'lookup-list.j2', convert_data=False) }}", scope), '[1, 2]\n\n');
  assert.throws(
    () => renderString("{{ lookup('template', 'trailing-0.j2', jinja2_native=True) }}", scope),
    /jinja2_native is not supported/,
  );
});
