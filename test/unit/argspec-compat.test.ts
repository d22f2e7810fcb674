import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunEvent } from '../../src/core/events.js';
import {
  ansiblePlaybook,
  ansibleRecap,
  ansibleRows as sharedAnsibleRows,
  orchRecap,
  orchRows as sharedOrchRows,
  type AnsibleJson,
  unnamedIncludes,
} from '../helpers/compat.js';
import { orch, ROOT } from '../helpers/lab.js';

// A role with meta/argument_specs.yml through roles:, import_role, include_role (valid, invalid, not validated)
// and validate_argument_spec as a task: orch and ansible-playbook 2.14 on localhost (no lab).
const DIR = join(ROOT, 'test', 'compat', 'argspec');
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;

const ansibleRows = (out: AnsibleJson) => unnamedIncludes(sharedAnsibleRows(out));
const orchRows = (events: RunEvent[]) => unnamedIncludes(sharedOrchRows(events));

test(
  'argument_specs: the implicit validation task of a role and validate_argument_spec agree with ansible-playbook (tasks, statuses, errors, recap)',
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const ansible = ansiblePlaybook(['-i', join(DIR, 'inventory'), join(DIR, 'playbook.yml')], 300_000);
    const o = orch(['run', join(DIR, 'inventory'), join(DIR, 'playbook.yml')]);
    assert.equal(o.code, 0, o.stderr);
    assert.deepEqual(orchRows(o.events), ansibleRows(ansible));
    assert.deepEqual(
      orchRecap(o.events),
      ansibleRecap(ansible),
      'ok changed unreachable failed skipped rescued ignored',
    );
    const failed = o.events.flatMap((e) => (e.type === 'host_result' && e.status === 'failed' ? [e.msg] : []));
    const expected = ansible.plays
      .flatMap((p) => p.tasks.map((t) => t.hosts.localhost as { failed?: boolean; msg?: string }))
      .filter((r) => r.failed)
      .map((r) => r.msg);
    assert.equal(failed.length, 2);
    assert.deepEqual(failed, expected, 'the same messages');
  },
);

test(
  'argument_specs: with --tags that select no task only the validation tasks of roles and import_role run (tagged always), not those of an include_role the tags do not select',
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const args = [join(DIR, 'inventory'), join(DIR, 'playbook.yml'), '--tags', 'none_such'];
    const ansible = ansiblePlaybook(['-i', ...args], 300_000);
    const o = orch(['run', ...args]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(orchRows(o.events).length, 2);
    assert.deepEqual(orchRows(o.events), ansibleRows(ansible));
    assert.deepEqual(orchRecap(o.events), ansibleRecap(ansible));
  },
);

test('argument_specs: a role entry point with a bad variable fails before its first task', () => {
  const o = orch(['run', join(DIR, 'inventory'), join(DIR, 'playbook.yml')]);
  const rows = orchRows(o.events).filter((r) => r.startsWith('invalid') && !r.includes('| include_role |'));
  assert.match(rows[0] ?? '', /Validating arguments against arg spec 'main' - A role whose .* \| failed$/);
  assert.ok(!rows.some((r) => r.includes('main entry point')), 'the role task after the validation never ran');
});
