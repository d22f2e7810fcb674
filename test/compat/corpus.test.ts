import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, test } from 'node:test';
import { CORPUS, corpusLab, corpusRoles, labCommand, runRole, type ToolRun } from './corpus.js';

// Public roles from ../shared/corpus run unchanged with ansible-playbook and with orch on fresh lab hosts; the end
// states must be the same (files, modes, owners, packages, running programs) and a second run must change
// nothing. `npm run compat` runs every role and writes the table; these are the roles that pass today, kept
// passing here.
const PASSING = (
  process.env.ORCH_CORPUS_ROLES ?? 'cron,sudo,users,logrotate,locales,haproxy,redis,postgres,os_hardening,ssh_hardening'
)
  .split(',')
  .filter(Boolean);

// the roles changed hosts 1 and 2 (PAM, mounts, services): the tests after these get them fresh
after(() => {
  const lab = corpusLab();
  if (existsSync(lab.inventory)) labCommand(lab, 'reset', `${lab.prefix}1`, `${lab.prefix}2`);
});
const hasAnsible =
  spawnSync('ansible-playbook', ['--version']).status === 0 &&
  existsSync('/usr/lib/python3/dist-packages/ansible_collections/community/general');

const describe = (runs: [ToolRun, ToolRun] | undefined) =>
  runs ? runs.map((r) => `exit ${r.code} changed=${r.recap?.changed ?? '?'} ${r.error ?? ''}`).join(' / ') : 'not run';

for (const name of PASSING) {
  test(
    `corpus role ${name}: runs unchanged on orch, converges, and ends as Ansible's run does`,
    { skip: (!hasAnsible || !existsSync(CORPUS)) && "needs Debian's ansible and ../shared/corpus" },
    () => {
      const role = corpusRoles().find((r) => r.name === name);
      assert.ok(role, `no role ${name} in the corpus manifest`);
      const o = runRole(corpusLab(), role, { ansible: true, orch: true });
      assert.equal(o.ansible?.[0].code, 0, `ansible-playbook itself: ${describe(o.ansible)}`);
      assert.equal(o.orch?.[0].code, 0, `orch first run: ${describe(o.orch)}`);
      assert.equal(o.orch?.[1].code, 0, `orch second run: ${describe(o.orch)}`);
      assert.equal(o.orch?.[1].recap?.changed, 0, `orch second run changes nothing: ${describe(o.orch)}`);
      assert.deepEqual(o.differences, [], 'same end state as ansible-playbook');
    },
  );
}
