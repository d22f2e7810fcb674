import assert from 'node:assert/strict';
import { fault } from '../helpers/faults.js';
import { HOSTS, INVENTORY, orch, results, writePlaybook } from '../helpers/lab.js';

// become_flags (keyword, ansible_become_flags, ansible.cfg) change the session sudo/su gives (-i: a login
// shell, -E: the caller's environment). orch does not pass them: any flags beyond Ansible's default
// `-H -S -n` fail the task when a host reaches it, instead of being read and dropped.
const host = HOSTS[0] as string;

fault(
  'become_flags other than the default',
  'keyword, play keyword and variable: the task fails naming become_flags; default flags and a false when: run',
  () => {
    const pb = writePlaybook(`- hosts: ${host}
  gather_facts: no
  tasks:
    - name: login shell flag
      command: id -un
      become: yes
      become_flags: "-i"
      ignore_errors: yes
    - name: default flags
      command: id -un
      become: yes
      become_flags: "-H -S -n"
    - name: not reached
      command: id -un
      become: yes
      become_flags: "-E"
      when: false
- hosts: ${host}
  gather_facts: no
  become_flags: "-E"
  tasks:
    - name: play keyword
      command: id -un
      become: yes
      ignore_errors: yes
- hosts: ${host}
  gather_facts: no
  vars:
    ansible_become_flags: "-i"
  tasks:
    - name: variable
      command: id -un
      become: yes
      ignore_errors: yes
    - name: variable without become
      command: id -un
`);
    const r = orch(['run', INVENTORY, pb]);
    assert.equal(r.code, 0, r.stderr);
    const by = Object.fromEntries(results(r).map((x) => [x.task, x]));
    for (const t of ['login shell flag', 'play keyword', 'variable']) {
      assert.equal(by[t]?.status, 'failed', t);
      assert.match(by[t]?.msg ?? '', /become_flags.* is not implemented by orch/, t);
    }
    assert.equal(by['default flags']?.stdout, 'root');
    assert.equal(by['not reached']?.status, 'skipped');
    assert.equal(by['variable without become']?.stdout, 'deploy');
    return 'the three fail naming become_flags; default flags ran as root; when: false skipped';
  },
);
