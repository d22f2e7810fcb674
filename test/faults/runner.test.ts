import assert from 'node:assert/strict';
import { fault } from '../helpers/faults.js';
import { HOSTS, INVENTORY, orch, results, writePlaybook } from '../helpers/lab.js';

// Commands run by the persistent runner behave as under sshd or Ansible: SIGPIPE has its default action
// (the runner ignores it for itself; its children must not inherit that).
const host = HOSTS[0] as string;

for (const mode of ['driver', 'exec'] as const) {
  fault(
    `commands see SIGPIPE at its default (${mode})`,
    'yes | head: no "Broken pipe" on stderr; no signal ignored',
    () => {
      const pb = writePlaybook(
        `- hosts: ${host}\n  gather_facts: no\n  tasks:\n` +
          '    - shell: "yes | head -n1; grep SigIgn /proc/self/status"\n      register: r\n',
      );
      const r = orch(['run', INVENTORY, pb], { env: { ORCH_SSH_MODE: mode === 'exec' ? 'exec' : '' } });
      assert.equal(r.code, 0, JSON.stringify(results(r)));
      const [first] = results(r);
      assert.equal(first?.stderr ?? '', '');
      assert.match(first?.stdout ?? '', /^y\nSigIgn:\s+0+$/);
      return 'no Broken pipe; SigIgn all zero';
    },
  );
}
