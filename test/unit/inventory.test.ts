import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ParseError, UsageError } from '../../src/core/errors.js';
import { parseIniInventory } from '../../src/inventory/ini.js';
import { loadAdjacentVars, loadInventory } from '../../src/inventory/load.js';
import { Inventory } from '../../src/inventory/model.js';
import { selectHosts } from '../../src/inventory/pattern.js';
import { ROOT } from '../helpers/lab.js';
import { Secrets } from '../../src/core/secrets.js';

const FIX = join(ROOT, 'test', 'fixtures');

function merged(inv: Inventory, host: string): Record<string, unknown> {
  return Object.assign({}, ...inv.varLayers(host).map((l) => l.vars));
}

test('INI inventory directory: groups, children, ranges, host vars', () => {
  const inv = loadInventory(join(FIX, 'inv-dir'), new Secrets());
  assert.deepEqual(inv.order, ['lb1', 'web01', 'web02', 'web03', 'db1', 'db2']);
  assert.deepEqual(inv.hostsOf('app'), ['web01', 'web02', 'web03', 'db1', 'db2']);
  assert.deepEqual(inv.groupNames('web02'), ['app', 'web']);
  assert.equal(merged(inv, 'web01').ansible_port, 2222);
  assert.equal(merged(inv, 'db2').pg_role, 'replica');
});

test('variable precedence: all < parent group < child group < host_vars', () => {
  const inv = loadInventory(join(FIX, 'inv-dir'), new Secrets());
  assert.equal(merged(inv, 'lb1').level, 'all-file');
  assert.equal(merged(inv, 'db1').level, 'app');
  assert.equal(merged(inv, 'web01').level, 'web');
  assert.equal(merged(inv, 'web02').level, 'web02');
  assert.equal(merged(inv, 'web02').workers, 8);
  assert.equal(merged(inv, 'web01').app_name, 'shop');
  assert.equal(merged(inv, 'lb1').timezone, 'UTC');
});

test('YAML inventory', () => {
  const inv = loadInventory(join(FIX, 'inventory.yml'), new Secrets());
  assert.deepEqual(inv.hostsOf('web'), ['s-web1', 's-web2']);
  assert.equal(merged(inv, 's-web1').ansible_host, '192.0.2.1');
  assert.equal(merged(inv, 's-web2').workers, 2);
  assert.equal(merged(inv, 's-db1').env, 'staging');
});

test('host patterns: union, intersection, exclusion, globs, a character class, regex', () => {
  const inv = loadInventory(join(FIX, 'inv-dir'), new Secrets());
  assert.deepEqual(selectHosts(inv, 'web:db'), ['web01', 'web02', 'web03', 'db1', 'db2']);
  assert.deepEqual(selectHosts(inv, 'app:&web'), ['web01', 'web02', 'web03']);
  assert.deepEqual(selectHosts(inv, 'app:!web02:!db'), ['web01', 'web03']);
  assert.deepEqual(selectHosts(inv, 'web0*'), ['web01', 'web02', 'web03']);
  assert.deepEqual(selectHosts(inv, 'web0[!2]'), ['web01', 'web03'], 'a bracket that is no subscript is a class');
  assert.deepEqual(selectHosts(inv, '~db[0-9]'), ['db1', 'db2']);
  assert.deepEqual(selectHosts(inv, 'lb1,db1'), ['lb1', 'db1']);
  assert.deepEqual(selectHosts(inv, 'all'), inv.order);
  assert.throws(
    () => selectHosts(inv, 'wbe'),
    (e: unknown) => e instanceof UsageError && /'wbe' matches no host or group/.test(e.message),
  );
});

test('bad INI inventory lines give file:line', () => {
  const inv = new Inventory('x');
  assert.throws(
    () => parseIniInventory('[web]\nweb1 ansible_port\n', 'inv.ini', inv),
    (e: unknown) => e instanceof ParseError && e.pos?.line === 2,
  );
  assert.throws(() => parseIniInventory('[web:bogus]\n', 'inv.ini', new Inventory('y')), /unknown section suffix/);
  assert.throws(
    () => parseIniInventory('[a:children]\nb\n[b:children]\na\n', 'inv.ini', new Inventory('z')),
    /contain each other/,
  );
});

test("add_host / group_by on the inventory: changed exactly when Ansible's inventory says so; ungrouped kept right; later patterns see the groups", () => {
  const inv = new Inventory('mem');
  parseIniInventory('web1\n[db]\ndb1\n', 'mem', inv);
  inv.finalize();
  assert.equal(inv.addDynamicHost('new1', [], { a: 1 }, 'play.yml'), true, 'a new host');
  assert.deepEqual(inv.hostsOf('ungrouped'), ['web1', 'new1']);
  assert.equal(inv.addDynamicHost('new1', [], { a: 1 }, 'play.yml'), false, 'the same again');
  assert.equal(inv.addDynamicHost('new1', [], { b: 2 }, 'play.yml'), true, 'a new variable');
  assert.deepEqual(inv.hosts.get('new1')?.vars, { a: 1, b: 2 });
  assert.equal(inv.addDynamicHost('new1', ['made'], {}, 'play.yml'), true, 'joins a new group');
  assert.deepEqual(inv.hostsOf('ungrouped'), ['web1'], 'in a group now: no longer ungrouped');
  assert.deepEqual(selectHosts(inv, 'made:db'), ['db1', 'new1']);
  assert.equal(inv.addDynamicGroup('web1', 'kind_a', ['all'], 'play.yml'), true, 'first host of a new group');
  assert.equal(inv.addDynamicGroup('db1', 'kind_a', ['all'], 'play.yml'), true, 'another host joins');
  assert.equal(inv.addDynamicGroup('db1', 'kind_a', ['all'], 'play.yml'), false, 'already there');
  assert.equal(inv.addDynamicGroup('db1', 'kind_a', ['top'], 'play.yml'), true, 'a new parent group');
  assert.deepEqual(inv.hostsOf('top'), ['web1', 'db1']);
  assert.deepEqual(inv.groupNames('web1'), ['kind_a', 'top']);
  assert.throws(
    () => inv.addDynamicGroup('db1', 'top', ['kind_a'], 'play.yml'),
    (e: unknown) => e instanceof ParseError && /contain each other/.test(e.message),
  );
});

test("group_vars and host_vars beside the playbook are read too and win over the inventory's for the same group or host (Ansible precedence 4<5<6<7, 9<10)", () => {
  const root = mkdtempSync(join(tmpdir(), 'orch-adjacent-'));
  const files: Record<string, string> = {
    'inv/hosts': '[web]\nw1\n',
    'inv/group_vars/all.yml': 'a: inv-all\nb: inv-all\nc: inv-all\n',
    'inv/group_vars/web.yml': 'b: inv-web\nd: inv-web\n',
    'inv/host_vars/w1.yml': 'e: inv-host\n',
    'pb/group_vars/all.yml': 'a: pb-all\nb: pb-all\n',
    'pb/group_vars/web.yml': 'd: pb-web\n',
    'pb/host_vars/w1.yml': 'e: pb-host\n',
    'pb/group_vars/nosuchgroup.yml': 'z: 1\n',
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  const inv = loadInventory(join(root, 'inv', 'hosts'), new Secrets());
  loadAdjacentVars(inv, join(root, 'pb'), new Secrets());
  const merged = Object.assign({}, ...inv.varLayers('w1').map((l) => l.vars)) as Record<string, string>;
  assert.deepEqual(merged, { a: 'pb-all', b: 'inv-web', c: 'inv-all', d: 'pb-web', e: 'pb-host' });
});
