import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TemplateError } from '../../src/core/errors.js';
import { evalCondition, renderString, renderText, renderValue } from '../../src/template/env.js';
import { VarScope } from '../../src/template/scope.js';
import { Undefined } from '../../src/template/undefined.js';
import { Secrets } from '../../src/core/secrets.js';

function scope(vars: Record<string, unknown>, registered: Record<string, unknown> = {}): VarScope {
  return new VarScope(
    [
      { name: 'vars', vars, templated: true },
      { name: 'registered', vars: registered, templated: false },
    ],
    (v, s) => renderValue(v, s),
    { lookupPaths: [], secrets: new Secrets() },
  );
}

const s = scope(
  {
    n: 3,
    name: 'web',
    list: ['a', 'b', 'a'],
    d: { k: 'v', nested: '{{ name }}-x' },
    port: '{{ n * 1000 }}',
    flag: 'yes',
    empty: [],
    path: '/srv/app/current',
    users: [
      { name: 'a', admin: true },
      { name: 'b', admin: false },
    ],
  },
  { out: { stdout: 'literal {{ n }}', changed: true, rc: 0 }, fail: { failed: true } },
);

const table: [string, unknown][] = [
  ['{{ n }}', 3],
  ['x{{ n }}', 'x3'],
  ['{{ port }}', '3000'],
  ['{{ d.nested }}', 'web-x'],
  ['{{ list | unique }}', ['a', 'b']],
  ['{{ list | union(["c"]) }}', ['a', 'b', 'c']],
  ['{{ list | difference(["a"]) }}', ['b']],
  ['{{ list | length }}', '3'],
  ['{{ list | join(",") }}', 'a,b,a'],
  ['{{ missing | default("dflt") }}', 'dflt'],
  ['{{ empty | default("e", true) }}', 'e'],
  ['{{ flag | bool }}', true],
  ['{{ "42" | int + 1 }}', '43'],
  ['{{ path | basename }}', 'current'],
  ['{{ path | dirname }}', '/srv/app'],
  ['{{ "aGVsbG8=" | b64decode }}', 'hello'],
  ['{{ "hello" | b64encode }}', 'aGVsbG8='],
  ['{{ "abc" | hash("sha1") }}', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
  ['{{ "web-01" | regex_replace("^web-(\\d+)$", "app\\1") }}', 'app01'],
  ['{{ {"a": 1} | to_json }}', '{"a": 1}'], // Python's json.dumps separators, as Ansible
  ['{{ "ab" * 2 }} {{ [0] * 2 }} {{ 3 * 2 }}', 'abab [0, 0] 6'], // Python's * on strings and lists
  ['{{ "%05d" % 42 }} {{ 7 % 3 }} {{ "%s=%.1f" | format("a", 2.26) }}', '00042 1 a=2.3'], // % formats a string
  ['{{ {"a": [1, "x"]} | to_json }}', '{"a": [1, "x"]}'],
  ['{{ {"a": 1} | combine({"b": 2}) }}', { a: 1, b: 2 }],
  ['{{ d | dict2items | map(attribute="key") | list }}', ['k', 'nested']],
  ['{{ users | selectattr("admin") | map(attribute="name") | list }}', ['a']],
  ['{{ out is changed }}', true],
  ['{{ fail is failed }}', true],
  ['{{ fail is succeeded }}', false],
  ['{{ missing is defined }}', false],
  ['{{ missing is undefined }}', true],
  ['{{ name is match("we") }}', true],
  ['{{ name is search("e") }}', true],
  ['{{ "1.10" is version("1.9", ">") }}', true],
  ['{{ name.startswith("w") }}', true],
  ['{{ "a,b".split(",") }}', ['a', 'b']],
  ['{{ d.get("zz", "none") }}', 'none'],
  ['{{ True }} {{ False }} {{ None }}', 'True False None'],
  ['{{ list }}!', "['a', 'b', 'a']!"],
  ['{{ out.stdout }}', 'literal {{ n }}'],
  ['{{ "yes" if empty else "no" }}', 'no'],
  ['{% for u in users %}{{ u.name }};{% endfor %}', 'a;b;'],
  ['{{ omit_me | default(7) | ternary("t", "f") }}', 't'],
];

for (const [src, want] of table) {
  test(`template ${src}`, () => assert.deepEqual(renderString(src, s), want));
}

test('undefined variables are errors naming the variable', () => {
  assert.throws(
    () => renderString('{{ nope }}', s),
    (e: unknown) => e instanceof TemplateError && /'nope' is undefined/.test(e.message),
  );
  assert.throws(() => renderString('{{ d.zz }}', s), /has no attribute 'zz'/);
  assert.throws(() => evalCondition('nope == 1', s), /'nope' is undefined/);
  assert.throws(() => renderString('{% if nope %}x{% endif %}', s), /'nope' is undefined/);
});

test('recursive variables are reported, not looped', () => {
  const r = scope({ a: '{{ b }}', b: '{{ a }}' });
  assert.throws(() => renderString('{{ a }}', r), /recursive loop detected/);
});

test('conditions: lists are ANDed, Python truthiness', () => {
  assert.equal(evalCondition(['n > 2', 'name == "web"'], s), true);
  assert.equal(evalCondition(['n > 2', 'empty'], s), false);
  assert.equal(evalCondition('out is changed', s), true);
  assert.equal(evalCondition(true, s), true);
});

test('registered values are never templated again', () => {
  assert.deepEqual(renderValue({ x: '{{ out.stdout }}' }, s), { x: 'literal {{ n }}' });
});

test('an error from an earlier render that its caller handled is never reported for a later one', () => {
  const s = scope({});
  // an undefined value used outside a render (a result turned to JSON, a query recorded ahead) remembers its error
  assert.throws(() => JSON.stringify({ v: new Undefined('first_missing') }), /'first_missing' is undefined/);
  // the second failure is not an undefined variable orch raises itself: it must not borrow the first message
  assert.throws(
    () => renderString('{{ 1 | no_such_filter }}', s),
    (e: unknown) => e instanceof Error && !/first_missing/.test(e.message),
  );
});

test("now() as Ansible's: a datetime with attributes, strftime, and fmt=", () => {
  const s = scope({});
  assert.match(
    String(renderString('{{ now(utc=True).strftime("%Y-%m-%d %H:%M:%S") }}', s)),
    /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
  );
  assert.equal(renderString('{{ now().year >= 2024 }}', s), true);
  assert.match(String(renderString('{{ now(fmt="%j") }}', s)), /^\d{3}$/);
});

test('first_found: names, {files, paths}, skip: true gives nothing instead of an error', async () => {
  const { firstFound } = await import('../../src/template/lookups.js');
  const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const root = mkdtempSync(join(tmpdir(), 'orch-ff-'));
  mkdirSync(join(root, 'vars'));
  writeFileSync(join(root, 'vars', 'Debian.yml'), 'a: 1\n');
  const paths = [join(root, 'vars'), root];
  assert.deepEqual(firstFound(['Debian_12.yml', 'Debian.yml'], paths), [join(root, 'vars', 'Debian.yml')]);
  assert.deepEqual(firstFound([{ files: ['Debian_12.yml', 'Debian.yml'], skip: true }], paths), [
    join(root, 'vars', 'Debian.yml'),
  ]);
  assert.deepEqual(firstFound([{ files: 'x.yml;Debian.yml', paths: ['vars'] }], [root]), [
    join(root, 'vars', 'Debian.yml'),
  ]);
  assert.deepEqual(firstFound([{ files: ['none.yml'], skip: true }], paths), []);
  assert.throws(() => firstFound(['none.yml'], paths), /No file was found when using first_found/);
});

test("string literals: a playbook string keeps its backslashes (Ansible's escape_backslashes), conditions and templates read Python's escapes; regexes work in both", () => {
  const s = scope({ x: 'ab12', r: 'OpenSSH_9.2p1 Debian-2' });
  assert.equal(renderString("{{ 'a\\d' }}", s), 'a\\d');
  assert.equal(renderString("{{ x is match('ab\\d+') }}", s), true);
  assert.equal(renderString("{{ x | regex_replace('\\d', 'N') }}", s), 'abNN');
  assert.equal(
    renderString("{{ r | regex_replace('.*_([0-9]*.[0-9]).*', '\\1') }}", s),
    '9.2',
    "'\\1' is a back-reference, not chr(1) (ssh_hardening)",
  );
  assert.equal(renderString("{{ '\\n' }}", s), '\\n', "as ansible-playbook: '\\n' in a playbook is backslash-n");
  assert.equal(evalCondition(["x is match('ab\\d+')"], s), true);
  assert.equal(evalCondition(["'\\x41\\u00e9' == 'Aé'"], s), true, 'a condition reads Python escapes');
  assert.equal(renderText("{{ 'a\\tb' }}", s), 'a\tb', 'a template file reads Python escapes');
});

test("lookup('varnames') lists the defined variables matching a regexp", () => {
  const s = scope({ ssh_port: 22, ssh_user: 'x', other: 1 });
  assert.equal(renderString("{{ lookup('varnames', '^ssh_') }}", s), 'ssh_port,ssh_user');
  assert.deepEqual(renderString("{{ query('varnames', '^ssh_port$') }}", s), ['ssh_port']);
  assert.equal(renderString("{{ not lookup('varnames', '^nothing$') }}", s), true);
});

test('one expression with whitespace around it templates as Ansible does (checked with ansible-playbook 2.14)', () => {
  const t = scope({ s: 'x', s2: 'y\n', l: [1, 2], n: 5, b: true });
  assert.equal(renderString('{{ s }}\n', t), 'x\n', "copy content: '{{ v }}\\n' keeps its newline");
  assert.equal(renderString('{{ s2 }}\n', t), 'y\n', 'no second newline when the value ends with one');
  assert.deepEqual(renderString('{{ l }}\n', t), [1, 2]);
  assert.equal(renderString('  {{ l }}', t), '  [1, 2]');
  assert.equal(renderString('{{ n }}\n', t), 5);
  assert.equal(renderString('{{ n + 1 }}\n', t), '6\n');
  assert.equal(renderString('{{ b }}\n', t), true);
  assert.equal(renderString('{{ s }} \n\n', t), 'x \n\n');
  assert.deepEqual(renderString('{{ l }}\n\n', t), [1, 2]);
});

test('Jinja whitespace in any templated string: comments and block tags eat their newline, a #jinja2: line overrides', () => {
  const t = scope({ on: true });
  assert.equal(renderString('a\n{# note #}\nb\n', t), 'a\nb\n');
  assert.equal(renderString('{% if on %}\nyes\n{% endif %}\n', t), 'yes\n');
  assert.equal(renderString('#jinja2: trim_blocks: False\n{% if on %}\nyes\n{% endif %}\n', t), '\nyes\n');
  assert.equal(renderString('{% raw %}{{ x.0 }}{% endraw %}', t), '{{ x.0 }}', 'raw text is not rewritten');
});

test('a for loop over a missing variable or None fails as in Jinja (it looped zero times, silently)', () => {
  const t = scope({ n: null, l: ['a', 'b'] });
  assert.throws(() => renderString('{% for p in item.principals %}{{ p }}{% endfor %}', t), /'item' is undefined/);
  assert.throws(() => renderString('{% for p in n %}{{ p }}{% endfor %}', t), /'NoneType' object is not iterable/);
  assert.equal(
    renderString(
      '{% for k, v in {"a": 1} | dictsort %}{{ k }}{{ v }}{% endfor %}{% for x in l %}{{ x }}{% endfor %}',
      t,
    ),
    'a1ab',
  );
});

test("a string literal with a newline can be called on ('\\n'.join(list)); an earlier render's error does not stand in for a later one's", () => {
  const t = scope({ l: ['a', 'b'] });
  assert.equal(
    renderString("{{ '\\n'.join(l) }}", t),
    'a\\nb',
    'a playbook string keeps the backslash, as ansible-playbook prints it',
  );
  assert.equal(renderText("{{ '\\n'.join(l) }}", t), 'a\nb', 'a template file reads it as a newline');
  assert.throws(() => renderString('{{ first_missing }}', t), /first_missing/);
  assert.throws(
    () => renderString('{{ l | no_such_filter }}', t),
    (e: Error) => !/first_missing/.test(e.message),
  );
});

test("a missing variable given to a filter or searched with 'in' fails as in Ansible (both answered false, silently)", () => {
  const t = scope({ d: { a: 1 } });
  assert.throws(() => renderString('{% if missing | bool %}x{% endif %}', t), /'missing' is undefined/);
  assert.throws(() => renderString("{{ 'ntp' in ansible_facts_missing.packages }}", t), /ansible_facts_missing/);
  assert.equal(renderString('{{ missing | default(false) | bool }}', t), false);
  assert.equal(renderString("{{ 'a' in d }}", t), true);
});

test('types of one-expression values as Ansible 2.14 gives them (checked with type_debug): a bare variable keeps its type, an expression gives text unless it reads as a list, dict or boolean', () => {
  const t = scope({ n: 3, port: '{{ n * 1000 }}', list: ['a', 'b', 'c'], none_var: null, item: { value: 1 } });
  assert.equal(renderString('{{ n }}', t), 3);
  assert.equal(renderString('{{ port }}', t), '3000');
  assert.equal(renderString('{{ item.value }}', t), '1');
  assert.equal(renderString('{{ n + 1 }}', t), '4');
  assert.deepEqual(renderString('{{ list }}', t), ['a', 'b', 'c']);
  assert.deepEqual(renderString('{{ list | select("ne", "b") | list }}', t), ['a', 'c']);
  assert.equal(renderString('{{ n > 1 }}', t), true);
  assert.equal(renderString('{{ none_var }}', t), null);
});

test("Jinja2's in test: x is in seq, x is not in seq (os_hardening)", () => {
  const t = scope({ l: ['a'], x: 'a', y: 'b' });
  assert.equal(renderString('{{ x is in l }}', t), true);
  assert.equal(renderString('{{ y is not in l }}', t), true);
  assert.equal(renderString('{{ x is not in l }}', t), false);
  assert.equal(renderString("{{ 'x is in l' }}", t), 'x is in l', 'not inside a string');
});

test('+ as in Python: lists concatenate (JavaScript turned [] + [x] into a string), str + int is an error', () => {
  const t = scope({ l: ['a'], n: 2, x: 'a' });
  assert.deepEqual(renderString('{{ missing | default([]) + [x] }}', t), ['a']);
  assert.deepEqual(renderString('{{ l + ["b"] }}', t), ['a', 'b']);
  assert.equal(renderString('{{ n + 1 }}', t), '3');
  assert.equal(renderString('{{ x + "b" }}', t), 'ab');
  assert.throws(() => renderString('{{ x + 1 }}', t), /can only concatenate str \(not "int"\) to str/);
});

test('slices as Python (Jinja has them, nunjucks does not): bounds, negatives, steps, strings and lists; ansible-playbook printed the same', () => {
  const vars = scope({ k: { id: '0123456789ABCDEF' }, xs: [1, 2, 3, 4, 5] });
  const r = (s: string) => renderText(s, vars);
  assert.equal(
    r(
      "{{ k.id[-8:] }} {{ k.id[:4] }} {{ k.id[2:6] }} {{ [1,2,3][1:] }} {{ k.id[::2] }} {{ 'hello'[1:3] }} {{ xs[::-1] }} {{ xs[-2:] }} {{ xs[1:-1:2] }} {{ xs[4:1:-1] }} {{ ('a.b.c.d'.split('.'))[0:3] | join('.') }} {{ {'a': 1}['a'] }} {{ xs[xs[0]:] }}",
    ),
    '89ABCDEF 0123 2345 [2, 3] 02468ACE el [5, 4, 3, 2, 1] [4, 5] [2, 4] [5, 4, 3] a.b.c 1 [2, 3, 4, 5]',
  );
  assert.equal(
    r('{% for x in xs[1:3] %}{{ x }}{% endfor %} {{ xs[10:] }} {{ k.id[-100:2] }} {{ xs[:] }}'),
    '23 [] 01 [1, 2, 3, 4, 5]',
  );
  assert.throws(() => r('{{ xs[::0] }}'), /slice step cannot be zero/);
});
