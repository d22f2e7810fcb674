import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HOSTS, INVENTORY, onHost, orch, resetHost, results, writePlaybook } from '../helpers/lab.js';

// Each Ansible task starts in a new sudo session: groups, PAM limits and environment are computed afresh.
// orch keeps one command runner per host and become user; a later task must still see what a new session
// sees after a task changed users, groups, limits or the login shell's rc file, whether a module or a plain
// command made the change.
// The login user's own groups and limits are the SSH connection's, in Ansible (ControlPersist) as in orch,
// until `meta: reset_connection`. The playbook writes what its tasks saw to a file; the same playbook runs
// with orch (runner and exec mode) and with ansible-playbook on the same freshly reset host.
const host = HOSTS[0] as string;
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';
const VIEW = '/tmp/fresh-session.json';

const PLAYBOOK = `- hosts: ${host}
  gather_facts: no
  tasks:
    - name: the login user's groups and open-files limit
      shell: id -Gn; ulimit -n
      register: login_before
    - name: a variable from the login user's shell rc file
      shell: echo "\${ORCH_FRESH:-unset}"
      register: env_before
    - name: two service users and a group, made by the test
      become: yes
      user: name={{ item }}
      loop: [fsvc, fsvc2]
    - name: a group for the login user
      become: yes
      group: name=fgrp
    - name: root's open-files limit (starts the root runner)
      become: yes
      shell: ulimit -n
      register: root_before
    - name: fsvc's groups (starts a runner as fsvc)
      become: yes
      become_user: fsvc
      command: id -Gn
      register: svc_before
    - name: fsvc2's groups (starts a runner as fsvc2)
      become: yes
      become_user: fsvc2
      command: id -Gn
      register: svc2_before
    - name: the user module adds fsvc to adm
      become: yes
      user: name=fsvc groups=adm append=yes
    - name: a plain command adds fsvc2 to adm
      become: yes
      command: usermod -aG adm fsvc2
    - name: the login user joins fgrp
      become: yes
      user: name=deploy groups=fgrp append=yes
    - name: the login user's shell rc file exports a variable
      lineinfile: path=/home/deploy/.bashrc line="export ORCH_FRESH=yes"
    - name: a limits file raises root's and the login user's open-files limits
      become: yes
      copy:
        dest: /etc/security/limits.d/fresh-session.conf
        content: "root soft nofile 4242\\nroot hard nofile 4242\\ndeploy soft nofile 2222\\n"
    - name: the variable now
      shell: echo "\${ORCH_FRESH:-unset}"
      register: env_after
    - name: fsvc's groups now
      become: yes
      become_user: fsvc
      command: id -Gn
      register: svc_after
    - name: fsvc2's groups now
      become: yes
      become_user: fsvc2
      command: id -Gn
      register: svc2_after
    - name: root's open-files limit now
      become: yes
      shell: ulimit -n
      register: root_after
    - name: the login user's groups and limit on the same connection
      shell: id -Gn; ulimit -n
      register: login_after
    - meta: reset_connection
    - name: the login user's groups and limit on a new connection
      shell: id -Gn; ulimit -n
      register: login_reset
    - name: write down what the tasks saw
      copy:
        dest: ${VIEW}
        content: "{{ {'login_before': login_before.stdout_lines, 'root_before': root_before.stdout, 'svc_before': svc_before.stdout, 'svc2_before': svc2_before.stdout, 'svc_after': svc_after.stdout, 'svc2_after': svc2_after.stdout, 'root_after': root_after.stdout, 'login_after': login_after.stdout_lines, 'login_reset': login_reset.stdout_lines, 'env_before': env_before.stdout, 'env_after': env_after.stdout} | to_json }}"
`;

type View = Record<string, string | string[]>;

function seen(): View {
  const r = onHost(host, `cat ${VIEW}`);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as View;
}

function runOrch(mode: 'driver' | 'exec'): View {
  resetHost(host);
  const r = orch(['run', INVENTORY, writePlaybook(PLAYBOOK)], {
    env: { ORCH_SSH_MODE: mode === 'exec' ? 'exec' : '' },
  });
  assert.equal(
    r.code,
    0,
    results(r)
      .filter((x) => x.status === 'failed')
      .map((x) => `${x.task}: ${x.msg} ${x.stderr ?? ''}`)
      .join('\n') + r.stderr,
  );
  // the changes themselves, checked over plain ssh
  assert.match(onHost(host, 'id -Gn fsvc; id -Gn fsvc2').stdout, /^fsvc adm\nfsvc2 adm\n$/);
  return seen();
}

/** What a new session sees after the changes (and what the same connection still sees for the login user). */
function assertFresh(v: View, before: View): void {
  assert.equal(v.svc_before, 'fsvc');
  assert.equal(v.svc_after, 'fsvc adm', 'group added by the user module: the next task as fsvc is in adm');
  assert.equal(v.svc2_after, 'fsvc2 adm', 'group added by a plain command: the next task as fsvc2 is in adm');
  assert.equal(v.root_after, '4242', "limits.d raised root's limit: the next become task has it");
  assert.deepEqual(
    [v.env_before, v.env_after],
    ['unset', 'yes'],
    'the login shell reads its rc file again for the next task',
  );
  assert.deepEqual(
    v.login_after,
    before.login_before,
    'same connection: the login user keeps the groups and limits it logged in with',
  );
  assert.deepEqual(
    v.login_reset,
    ['deploy fgrp', '2222'],
    'after reset_connection the login user has its new group and limit',
  );
}

const views: Partial<Record<'driver' | 'exec' | 'ansible', View>> = {};

after(() => resetHost(host));

for (const mode of ['driver', 'exec'] as const) {
  test(`fresh session (${mode}): after users/groups/limits change, a later task sees new groups and limits, as a new sudo session`, () => {
    const v = runOrch(mode);
    views[mode] = v;
    assertFresh(v, v);
  });
}

test(
  'fresh session: ansible-playbook sees the same on the same host, task by task',
  { skip: spawnSync('ansible-playbook', ['--version']).status !== 0 && 'ansible-playbook not installed' },
  () => {
    resetHost(host);
    const lab = readFileSync(INVENTORY, 'utf8');
    const line = lab.split('\n').find((l) => l.startsWith(`${host} `)) ?? host;
    const inv = join(mkdtempSync(join(tmpdir(), 'orch-fresh-')), 'hosts');
    writeFileSync(
      inv,
      `${line}\n\n${lab.slice(lab.indexOf('[all:vars]'))}\nansible_ssh_common_args=-o UserKnownHostsFile=${LAB_DIR}/known_hosts\nansible_python_interpreter=/usr/bin/python3\n`,
    );
    // pipelining: becoming an unprivileged user (fsvc) without it needs ACLs on the host's temp files
    const a = spawnSync('ansible-playbook', ['-i', inv, writePlaybook(PLAYBOOK)], {
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_PIPELINING: 'True', ANSIBLE_NOCOLOR: '1' },
    });
    assert.equal(a.status, 0, a.stdout.slice(-3000) + a.stderr.slice(-2000));
    const v = seen();
    assertFresh(v, v);
    for (const mode of ['driver', 'exec'] as const) {
      const mine = views[mode];
      if (mine) assert.deepEqual(mine, v, `orch (${mode}) and ansible-playbook saw the same`);
    }
  },
);
