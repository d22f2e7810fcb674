import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ansiblePlaybook, ansibleRecap, ansibleRows, byHost, orchRecap, orchRows } from '../helpers/compat.js';
import { HOSTS, hostsInventory, onHost, orch, ROOT, writePlaybook } from '../helpers/lab.js';

// Variable scoping (roles, includes, include_vars, blocks, group/host vars, role magic variables, play hosts after a
// failure): test/compat/scoping/scoping.yml run by orch and by ansible-playbook 2.14 on the same two lab hosts.
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;
const [first, second] = HOSTS as [string, string];

/** The playbook in a directory of its own, with host_vars for the first host beside it; the inventory in another
 * directory with its own group_vars and host_vars (for the second host). */
function setUp(): { playbook: string; inventory: string } {
  // handlers an earlier failed orch run kept on the hosts would run first
  for (const h of [first, second]) onHost(h, 'rm -rf ~deploy/.orch/pending-handlers');
  const dir = mkdtempSync(join(tmpdir(), 'orch-scoping-'));
  cpSync(join(ROOT, 'test', 'compat', 'scoping'), dir, { recursive: true });
  mkdirSync(join(dir, 'host_vars'));
  const inventory = hostsInventory([first, second], 'scoping');
  const invDir = dirname(inventory);
  mkdirSync(join(invDir, 'group_vars'));
  mkdirSync(join(invDir, 'host_vars'));
  writeFileSync(
    join(invDir, 'group_vars', 'scoping.yml'),
    'gv_inv: inventory-group-vars\ngv_both: inventory-group-vars\n',
  );
  writeFileSync(join(invDir, 'host_vars', `${second}.yml`), 'hv_inv: inventory-host-vars\n');
  // the same group and host on both sides
  writeFileSync(join(invDir, 'group_vars', 'all.yml'), 'gv_same: inventory-group-vars\n');
  writeFileSync(join(invDir, 'host_vars', `${first}.yml`), 'hv_same: inventory-host-vars\n');
  writeFileSync(join(dir, 'host_vars', `${first}.yml`), 'hv_pb: playbook-host-vars\nhv_same: playbook-host-vars\n');
  return { playbook: join(dir, 'scoping.yml'), inventory };
}

/** orch's run's debug messages of a task, per host in name order. */
function messages(events: ReturnType<typeof orch>['events'], task: string): string[] {
  return orchRows(events, true)
    .filter((r) => r.split(' | ')[1] === task)
    .sort()
    .map((r) => r.split(' | ').slice(2).join(' | '));
}

test("scoping: role vars are the play's (pre_tasks, tasks, post_tasks, handlers, later roles; not a later play), role params and include_tasks/include_role vars win over set_fact, include_vars loses to it, the play hosts leave out a failed host, a skipped meta task is shown, meta allow_duplicates needs no galaxy_info, include_role loops, omit in nested args, the vars dictionary, the last role's default, a dependency's defaults in a private include_role", () => {
  const { playbook, inventory } = setUp();
  const o = orch(['run', inventory, playbook]);
  assert.equal(o.code, 2, o.stderr);
  const rows = (task: string) => messages(o.events, task);
  assert.deepEqual(rows("pre_tasks see the vars and defaults of the play's roles and of imported roles"), [
    `${first} | ok | main-vars main-default second-vars imported-vars imported-default no-param keyword`,
    `${second} | ok | main-vars main-default second-vars imported-vars imported-default no-param keyword`,
  ]);
  assert.deepEqual(rows("pre_tasks do not see an included role's vars"), [
    `${first} | ok | U U U U`,
    `${second} | ok | U U U U`,
  ]);
  assert.deepEqual(rows('a skipped meta task'), [`${first} | skipped`, `${second} | skipped`]);
  assert.deepEqual(
    rows('sc_main : main role sees')[0],
    `${first} | ok | main-vars main-default param param main-vars keyword main-vars play`,
  );
  assert.deepEqual(rows('after a public include_role')[0], `${first} | ok | public-vars public-default`);
  assert.deepEqual(rows('included tasks see'), [
    `${first} | ok | include-tasks-vars include-only`,
    `${first} | ok | set-fact import-only`,
    `${second} | ok | include-tasks-vars include-only`,
    `${second} | ok | set-fact import-only`,
  ]);
  assert.deepEqual(
    rows('include_vars against set_fact and play vars')[0],
    `${first} | ok | set-fact include-vars include-vars`,
  );
  assert.deepEqual(rows('play hosts after a failure'), [
    `${first} | ok | ['${first}'] ['${first}'] ['${first}', '${second}'] ['${first}']`,
  ]);
  assert.deepEqual(rows('play handler'), [`${first} | ok | main-vars main-default second-vars set-fact`]);
  assert.deepEqual(rows("a later play does not see the roles' vars"), [`${first} | ok | U U set-fact set-fact`]);
  assert.deepEqual(
    rows('the keys set to omit are dropped at any depth')[0],
    `${first} | ok | omitted: {'a': 1, 'c': {'e': 2}}`,
  );
  assert.deepEqual(
    rows('the vars dictionary and the vars lookup see role vars, defaults, include_vars')[0],
    `${first} | ok | main-vars main-default include-vars include-vars`,
  );
  assert.deepEqual(
    rows('role vars over vars_files, group_vars over role defaults')[0],
    `${first} | ok | parent-vars playbook-group-vars child-default U once`,
    "the last role's default wins",
  );
  assert.deepEqual(
    rows("sc_withdep : a role sees its dependency's defaults and vars")[0],
    `${first} | ok | child-default child-default child-vars`,
  );
  assert.deepEqual(rows('sc_dup : a role with allow_duplicates runs each time'), [
    `${first} | ok | dup 1`,
    `${first} | ok | dup 2`,
    `${first} | ok | dup none`,
    `${first} | ok | dup none`,
    `${second} | ok | dup 1`,
    `${second} | ok | dup 2`,
    `${second} | ok | dup none`,
    `${second} | ok | dup none`,
  ]);
  assert.deepEqual(
    rows("sc_child : a dependency sees its parent's vars and params")[0],
    `${first} | ok | from-parent parent-vars param child-default`,
  );
});

test(
  'scoping: ansible-playbook and orch agree on scoping.yml: every debug message, task status and the recap, host by host',
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const { playbook, inventory } = setUp();
    const ansible = ansiblePlaybook(['-i', inventory, playbook], 300_000, 2);
    const o = orch(['run', inventory, playbook]);
    assert.equal(o.code, 2, 'exit 2 as ansible-playbook (a host failed)');
    assert.deepEqual(byHost(orchRows(o.events, true)), byHost(ansibleRows(ansible, true)));
    assert.deepEqual(
      orchRecap(o.events),
      ansibleRecap(ansible),
      'ok changed unreachable failed skipped rescued ignored',
    );
  },
);

test("an unnamed include_role is named 'include_role : ROLE', as Ansible names it", () => {
  const pb = writePlaybook('- hosts: all\n  gather_facts: false\n  tasks:\n    - include_role:\n        name: r\n', {
    'roles/r/tasks/main.yml': '- debug: msg=r\n',
  });
  const o = orch(['run', hostsInventory([first], 'scoping'), pb]);
  assert.deepEqual(orchRows(o.events, true), [
    `all | include_role : r | ${first} | ok`,
    `all | r : debug | ${first} | ok | r`,
  ]);
});

test('setup: fine-grained gather_subset names (distribution, platform...) are accepted as Ansible accepts them', () => {
  const pb = writePlaybook(
    '- hosts: all\n  gather_facts: false\n  tasks:\n    - setup:\n        gather_subset: ["!all", "!min", "distribution"]\n    - debug: msg="{{ ansible_distribution }}"\n',
  );
  const o = orch(['run', hostsInventory([first], 'scoping'), pb]);
  assert.equal(o.code, 0, o.stderr);
});
