import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addressOf, failures, HOSTS, onHost, orch } from '../helpers/lab.js';

// A project laid out for ansible-playbook (ansible.cfg next to the playbook, inventory and roles_path from it)
// runs with orch from its directory, unchanged; ansible-playbook runs the same directory the same way.
const host = HOSTS[0] as string;
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-cfg-project-'));
  writeFileSync(
    join(dir, 'ansible.cfg'),
    `[defaults]\ninventory = hosts\nroles_path = shared-roles\nremote_user = deploy\nprivate_key_file = ${LAB_DIR}/id_ed25519\nforks = 2\ninterpreter_python = /usr/bin/python3\n\n[privilege_escalation]\nbecome = True\n\n[ssh_connection]\nssh_args = -o UserKnownHostsFile=${LAB_DIR}/known_hosts\npipelining = True\n`,
  );
  writeFileSync(
    join(dir, 'hosts'),
    `[web]\n${host} ansible_host=${addressOf(host)} orch_known_hosts_file=${LAB_DIR}/known_hosts\n`,
  );
  mkdirSync(join(dir, 'shared-roles', 'cfgrole', 'tasks'), { recursive: true });
  writeFileSync(
    join(dir, 'shared-roles', 'cfgrole', 'tasks', 'main.yml'),
    '- command: id -un\n  register: as_root\n  changed_when: false\n- command: id -un\n  become: false\n  register: as_login\n  changed_when: false\n- copy:\n    dest: "{{ dest }}"\n    content: "{{ as_root.stdout }} {{ as_login.stdout }}\\n"\n',
  );
  writeFileSync(join(dir, 'site.yml'), '- hosts: web\n  gather_facts: false\n  roles: [cfgrole]\n');
  return dir;
}

test('ansible.cfg: `orch run site.yml` takes inventory, roles_path, remote_user, private_key_file and become from it', () => {
  const dir = project();
  onHost(host, 'rm -f /srv/orch-cfg-who');
  const r = orch(['run', 'site.yml', '-e', 'dest=/srv/orch-cfg-who'], { cwd: dir });
  assert.equal(r.code, 0, failures(r) + r.stderr);
  assert.equal(
    onHost(host, 'cat /srv/orch-cfg-who').stdout,
    'root deploy\n',
    'become from [privilege_escalation], login user from remote_user',
  );
  const notes = r.events.filter((e) => e.type === 'warning').map((e) => (e.type === 'warning' ? e.msg : ''));
  assert.ok(
    notes.some((m) => /pipelining is not used/.test(m)),
    notes.join('\n'),
  );
  assert.ok(
    !notes.some((m) => /ssh_args/.test(m)),
    'ssh_args is read (its UserKnownHostsFile is where the lab keys are)',
  );
  const again = orch(['run', '-i', 'hosts', 'site.yml', '-e', 'dest=/srv/orch-cfg-who'], { cwd: dir });
  assert.equal(again.code, 0, failures(again));
  const recap = again.events.find((e) => e.type === 'recap');
  assert.equal(
    recap?.type === 'recap' ? recap.stats[host]?.changed : -1,
    0,
    '-i works too; second run changed nothing',
  );
});

test(
  'ansible.cfg: ansible-playbook runs the same project to the same file',
  { skip: spawnSync('ansible-playbook', ['--version']).status !== 0 && 'no ansible-playbook' },
  () => {
    const dir = project();
    onHost(host, 'rm -f /srv/ansible-cfg-who');
    const a = spawnSync('ansible-playbook', ['site.yml', '-e', 'dest=/srv/ansible-cfg-who'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_CONFIG: join(dir, 'ansible.cfg') },
    });
    assert.equal(a.status, 0, a.stdout + a.stderr);
    assert.equal(onHost(host, 'cat /srv/ansible-cfg-who').stdout, 'root deploy\n');
  },
);
