import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fault } from '../helpers/faults.js';
import { HOSTS, INVENTORY, onHost, orch, results, writePlaybook } from '../helpers/lab.js';

// A task that hits `timeout:` while children (one still in its process group, one that left it with
// setsid) hold its stdout: a task failure with rc 124, every one of those processes killed, and the
// command runner still serving the next task. Checked over plain ssh.
const host = HOSTS[0] as string;
const left = () => onHost(host, "pgrep -af '[s]leep 30[0-2]' || true").stdout.trim();

test('timeout: no sleep left from before', () => {
  onHost(host, "pkill -f '[s]leep 30[0-2]'; true");
});

for (const [mode, become] of [
  ['driver', false],
  ['driver', true],
  ['exec', true],
] as const) {
  fault(
    `task timeout with children holding stdout (${mode}${become ? ', become' : ''})`,
    "task failed rc 124 with Ansible's timeout message (not unreachable); next task runs; no process left; within a few seconds",
    () => {
      const pb = writePlaybook(
        `- hosts: ${host}\n  gather_facts: no\n  become: ${become ? 'yes' : 'no'}\n  tasks:\n` +
          '    - shell: "sleep 300 & (setsid sleep 301 &); sleep 302"\n      timeout: 2\n      ignore_errors: yes\n' +
          '    - command: echo next\n      register: n\n    - assert: { that: "n.stdout == \'next\'" }\n',
      );
      const started = Date.now();
      const r = orch(['run', INVENTORY, pb], { env: { ORCH_SSH_MODE: mode === 'exec' ? 'exec' : '' } });
      const secs = (Date.now() - started) / 1000;
      const first = results(r)[0];
      assert.equal(first?.status, 'failed', JSON.stringify(first));
      assert.equal(first?.rc, 124);
      assert.equal(first?.msg, 'The shell action failed to execute in the expected time frame (2) and was terminated');
      assert.equal(r.code, 0, JSON.stringify(results(r)));
      const recap = r.events.find((e) => e.type === 'recap');
      assert.ok(
        recap?.type === 'recap' && recap.stats[host]?.unreachable === 0 && recap.stats[host]?.ok === 3,
        JSON.stringify(recap),
      ); // as ansible-playbook: the ignored failure counts in ok and ignored
      assert.equal(left(), '', 'no sleep survives');
      assert.ok(secs < 10, `took ${secs} s`);
      return `failed rc ${first?.rc} "${first?.msg}" in ${secs.toFixed(1)} s; the next task ran; no sleep left`;
    },
  );
}
