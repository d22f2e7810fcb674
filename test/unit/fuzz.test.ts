import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { OrchError } from '../../src/core/errors.js';
import { parseIniInventory } from '../../src/inventory/ini.js';
import { loadInventory } from '../../src/inventory/load.js';
import { Inventory } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { renderValue, renderText } from '../../src/template/env.js';
import { VarScope } from '../../src/template/scope.js';
import { parseYaml } from '../../src/yaml/load.js';
import { Secrets } from '../../src/core/secrets.js';

// Property: whatever the input, the loaders and the templating return a result or throw an OrchError
// (which the CLI prints with file:line and exits 4) — never another exception, never a hang.
const RUNS = Number(process.env.ORCH_FUZZ_RUNS ?? 300);
const SLOW_MS = 2000;

function resultOrOrchError(f: () => unknown): boolean {
  const started = Date.now();
  try {
    f();
  } catch (err) {
    if (!(err instanceof OrchError)) throw err;
  }
  assert.ok(Date.now() - started < SLOW_MS, `took ${Date.now() - started} ms`);
  return true;
}

const dir = mkdtempSync(join(tmpdir(), 'orch-fuzz-'));
let n = 0;
const fileWith = (text: string, name = 'f.yml') => {
  const p = join(dir, `${n++}-${name}`);
  writeFileSync(p, text);
  return p;
};

/** Text that looks like YAML: indentation, keys, dashes, flow brackets, quotes, anchors, tags, tabs. */
const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '- ',
        '  ',
        'hosts: ',
        'tasks:',
        '\n',
        ': ',
        '{',
        '}',
        '[',
        ']',
        '"',
        "'",
        '&a ',
        '*a',
        '!vault |',
        '<<: ',
        '\t',
        '#',
        'yes',
        '0644',
        '{{ x }}',
        'name',
      ),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(''));

/** Structures shaped like plays: real keywords and module names with arbitrary values. */
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 8 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('v'), { maxKeys: 3 }),
  ),
})).v;
const taskKey = fc.constantFrom(
  'name',
  'command',
  'shell',
  'copy',
  'file',
  'debug',
  'when',
  'loop',
  'with_items',
  'register',
  'notify',
  'block',
  'rescue',
  'always',
  'include_tasks',
  'import_tasks',
  'become',
  'until',
  'retries',
  'vars',
  'tags',
  'args',
  'action',
  'no_log',
  'template',
  'lineinfile',
  'set_fact',
  'assert',
);
const task = fc.dictionary(taskKey, value, { minKeys: 1, maxKeys: 4 });
const playKey = fc.constantFrom(
  'hosts',
  'name',
  'tasks',
  'handlers',
  'pre_tasks',
  'post_tasks',
  'roles',
  'vars',
  'vars_files',
  'serial',
  'become',
  'gather_facts',
  'import_playbook',
  'max_fail_percentage',
);
const play = fc
  .tuple(fc.dictionary(playKey, value, { maxKeys: 4 }), fc.array(task, { maxLength: 4 }))
  .map(([p, tasks]) => ({ hosts: 'all', ...p, tasks }));

test('fuzz: YAML reader — any text', () => {
  fc.assert(
    fc.property(fc.oneof(yamlish, fc.string({ maxLength: 200 })), (text) =>
      resultOrOrchError(() => parseYaml(text, 'fuzz.yml', new Secrets())),
    ),
    { numRuns: RUNS },
  );
});

test('fuzz: playbook loader — YAML-ish text and play-shaped structures', () => {
  fc.assert(
    fc.property(yamlish, (text) => resultOrOrchError(() => loadPlaybook(fileWith(text), { secrets: new Secrets() }))),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(fc.array(play, { minLength: 1, maxLength: 3 }), (plays) =>
      resultOrOrchError(() => loadPlaybook(fileWith(stringify(plays)), { secrets: new Secrets() })),
    ),
    { numRuns: RUNS },
  );
});

test('fuzz: inventory loaders — INI lines and YAML inventories', () => {
  const iniLine = fc.oneof(
    fc.constantFrom(
      '[web]',
      '[web:vars]',
      '[all:children]',
      'web[01:10]',
      'h1 ansible_host=1.2.3.4',
      'a=b c="d e"',
      '[',
      ']',
      '#x',
      'h[a:]',
      'h[1:2:0]',
      'x ansible_port=notaport',
      '',
    ),
    fc.string({ maxLength: 20 }),
  );
  fc.assert(
    fc.property(fc.array(iniLine, { maxLength: 12 }), (lines) =>
      resultOrOrchError(() => parseIniInventory(lines.join('\n'), 'hosts', new Inventory('hosts'))),
    ),
    { numRuns: RUNS },
  );
  const yamlInv = fc.dictionary(fc.constantFrom('all', 'web', 'db', 'hosts', 'children', 'vars', 'x'), value, {
    maxKeys: 3,
  });
  fc.assert(
    fc.property(yamlInv, (inv) =>
      resultOrOrchError(() => loadInventory(fileWith(stringify(inv), 'inv.yml'), new Secrets())),
    ),
    { numRuns: RUNS },
  );
});

test('fuzz: templating — expressions, filters, tests and statements built from Jinja2 pieces', () => {
  const scope = new VarScope(
    [{ name: 'vars', vars: { x: 1, s: 'text', l: [1, 2, 3], d: { a: 1 }, b: true, n: null }, templated: true }],
    (v, sc) => renderValue(v, sc),
    { lookupPaths: [], secrets: new Secrets() },
  );
  const piece = fc.constantFrom(
    '{{',
    '}}',
    '{%',
    '%}',
    'x',
    's',
    'l',
    'd',
    'b',
    'n',
    'undefinedvar',
    ' | ',
    'default(1)',
    'upper',
    'join(",")',
    'length',
    'int',
    'to_json',
    'from_json',
    'regex_replace("a","b")',
    ' is ',
    'defined',
    'match("x")',
    ' if ',
    ' else ',
    'for i in l',
    'endfor',
    'if b',
    'endif',
    '(',
    ')',
    '[',
    ']',
    '.',
    "'",
    '"',
    '+',
    '*',
    '~',
    ' and ',
    ' not ',
    '0',
    '1e999',
    'd.a',
    'l[9]',
    'lookup("env","HOME")',
    'range(3)',
    'set y = 1',
    '{#',
    '#}',
    ' ',
  );
  fc.assert(
    fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 4 })), { maxLength: 25 }), (parts) =>
      resultOrOrchError(() => renderText(parts.join(''), scope)),
    ),
    { numRuns: RUNS * 3 },
  );
});
