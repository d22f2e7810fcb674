import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTS, orch, results, ROOT, oneHostInventory } from '../helpers/lab.js';
import { ansiblePlaybook, assertSameAsAnsible } from '../helpers/compat.js';

// test/compat/compat.yml is written in Ansible's style and asserts on the behaviours playbooks rely on.
// orch must pass it; where Debian's ansible-core is installed, ansible-playbook runs the same file on the
// same host and the two are compared task by task.
// the fourth lab host (the last one on a smaller lab)
const host = HOSTS[Math.min(3, HOSTS.length - 1)] as string;
const PLAYBOOK = join(ROOT, 'test', 'compat', 'compat.yml');

function inventory(): string {
  return oneHostInventory(host, 'compat');
}

test('compat: an Ansible-style playbook (YAML 1.1, k=v, FQCN, result keys, filters, tests, magic vars, loops, lookups) passes on orch', () => {
  const r = orch(['run', inventory(), PLAYBOOK]);
  assert.equal(
    r.code,
    0,
    results(r)
      .filter((x) => x.status === 'failed' && x.task !== 'this fails')
      .map((x) => `${x.task}: ${x.msg} ${x.hint ?? ''}`)
      .join('\n'),
  );
  const recap = r.events.find((e) => e.type === 'recap');
  assert.ok(recap?.type === 'recap');
  assert.equal(recap.stats[host]?.rescued, 1);
  assert.equal(recap.stats[host]?.failed, 0, 'a rescued failure is not counted as failed (as Ansible)');
});

// asserts-*.yml: one assert per behaviour, as an external check writes them (test/tools/compat-score.mjs scores them)
for (const file of [
  'compat.yml',
  'modules.yml',
  'semantics.yml',
  'modules-system.yml',
  'modules-firewall.yml',
  'asserts-command.yml',
  'asserts-files.yml',
  'asserts-flow.yml',
  'asserts-vars.yml',
]) {
  test(`compat: ansible-playbook and orch agree task by task on ${file} (statuses and all seven recap counters)`, (t) => {
    if (spawnSync('ansible-playbook', ['--version']).status !== 0) return t.skip('ansible-playbook not installed');
    const playbook = join(ROOT, 'test', 'compat', file);
    const inv = inventory();
    orch(['run', inv, playbook]); // both compared runs then start from the state a run leaves
    const ansible = ansiblePlaybook(['-i', inv, playbook]);
    const o = orch(['run', inv, playbook]);
    assert.equal(
      o.code,
      0,
      results(o)
        .filter((x) => x.status === 'failed')
        .map((x) => `${x.task}: ${x.msg}`)
        .join('\n'),
    );
    assertSameAsAnsible(o.events, ansible, host);
  });
}
