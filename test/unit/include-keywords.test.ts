import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ansiblePlaybook, ansibleRecap, ansibleRows, orchRecap, orchRows, unnamedIncludes } from '../helpers/compat.js';
import { orch, ROOT } from '../helpers/lab.js';

// include_tasks / include_role keywords (ignore_errors, no_log, tags) stay the include's, as ansible-playbook 2.14
// does; only apply: passes keywords to the included tasks. Both tools on localhost (no lab).
const DIR = join(ROOT, 'test', 'compat', 'include-keywords');
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;

for (const tags of [[], ['--tags', 't1']]) {
  test(
    `include keywords${tags.length ? ' with --tags t1' : ''}: ignore_errors, no_log and tags of an include are not its tasks' (same rows, debug messages and recap as ansible-playbook)`,
    { skip: !hasAnsible && 'ansible-playbook not installed' },
    () => {
      const args = [join(DIR, 'inventory'), join(DIR, 'playbook.yml'), ...tags];
      const ansible = ansiblePlaybook(['-i', ...args], 300_000);
      const o = orch(['run', ...args]);
      assert.equal(o.code, 0, o.stdout.slice(-2000));
      assert.deepEqual(unnamedIncludes(orchRows(o.events, true)), unnamedIncludes(ansibleRows(ansible, true)));
      assert.deepEqual(orchRecap(o.events), ansibleRecap(ansible));
    },
  );
}
