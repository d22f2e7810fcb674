import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ansibleSettings, findConfig, parseIni, settingsVariables } from '../../src/cli/ansible-cfg.js';
import { ParseError } from '../../src/core/errors.js';

function project(cfg: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-cfg-'));
  writeFileSync(join(dir, 'ansible.cfg'), cfg);
  return dir;
}

const home = mkdtempSync(join(tmpdir(), 'orch-home-'));

test('ansible.cfg: [defaults] and [privilege_escalation] settings, paths relative to the file', () => {
  const dir = project(
    '[defaults]\ninventory = inventory/hosts\nroles_path = roles:~/shared-roles\nremote_user = deploy\nprivate_key_file = keys/id\nforks = 7\nvault_password_file = .vault-pass\ntimeout = 30\n# a comment\n\n[privilege_escalation]\nbecome = True\nbecome_user = app\nbecome_method = sudo\n\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto\n',
  );
  const s = ansibleSettings({}, dir, home);
  assert.equal(s.file, join(dir, 'ansible.cfg'));
  assert.equal(s.inventory, join(dir, 'inventory/hosts'));
  assert.deepEqual(s.rolesPath, [join(dir, 'roles'), join(home, 'shared-roles')]);
  assert.equal(s.privateKeyFile, join(dir, 'keys/id'));
  assert.equal(s.vaultPasswordFile, join(dir, '.vault-pass'));
  assert.equal(s.forks, 7);
  assert.equal(s.timeoutSeconds, 30);
  assert.equal(s.become, true);
  assert.equal(s.hostKeyChecking, true);
  assert.deepEqual(settingsVariables(s), {
    ansible_user: 'deploy',
    ansible_ssh_private_key_file: join(dir, 'keys/id'),
    ansible_become_method: 'sudo',
    ansible_become_user: 'app',
    ansible_ssh_args: '-o ControlMaster=auto',
  });
  assert.equal(s.notes.length, 1, 'pipelining is reported as not used (ssh_args is read: its -F, -o, -J, -p, -l, -i)');
});

test('ansible.cfg: ANSIBLE_* variables win over the file; ANSIBLE_CONFIG picks the file', () => {
  const dir = project('[defaults]\nforks = 7\nremote_user = a\nhost_key_checking = False\n');
  const s = ansibleSettings({ ANSIBLE_FORKS: '3', ANSIBLE_REMOTE_USER: 'b' }, dir, home);
  assert.equal(s.forks, 3);
  assert.equal(s.remoteUser, 'b');
  assert.equal(s.hostKeyChecking, false);
  const other = project('[defaults]\nforks = 9\n');
  assert.equal(findConfig({ ANSIBLE_CONFIG: join(other, 'ansible.cfg') }, dir, home), join(other, 'ansible.cfg'));
  assert.equal(
    ansibleSettings({}, mkdtempSync(join(tmpdir(), 'orch-none-')), home).file,
    undefined,
    'no file: defaults',
  );
});

test('ansible.cfg: error_on_missing_handler, on unless the file or ANSIBLE_ERROR_ON_MISSING_HANDLER turns it off', () => {
  const none = mkdtempSync(join(tmpdir(), 'orch-none-'));
  assert.equal(ansibleSettings({}, none, home).errorOnMissingHandler, true);
  assert.equal(
    ansibleSettings({}, project('[defaults]\nerror_on_missing_handler = False\n'), home).errorOnMissingHandler,
    false,
  );
  assert.equal(ansibleSettings({ ANSIBLE_ERROR_ON_MISSING_HANDLER: 'no' }, none, home).errorOnMissingHandler, false);
});

test('ansible.cfg: default roles_path is ~/.ansible/roles and the system dirs', () => {
  const s = ansibleSettings({}, mkdtempSync(join(tmpdir(), 'orch-none-')), home);
  assert.deepEqual(s.rolesPath, [join(home, '.ansible/roles'), '/usr/share/ansible/roles', '/etc/ansible/roles']);
});

test('ansible.cfg: a line that is not a setting, and a bad number, are errors naming the file and line', () => {
  assert.throws(
    () => parseIni('[defaults]\nforks\n', 'a.cfg'),
    (e: unknown) => e instanceof ParseError && e.pos?.line === 2 && e.pos.file === 'a.cfg',
  );
  assert.throws(
    () => ansibleSettings({}, project('[defaults]\nforks = many\n'), home),
    /forks must be a positive whole number/,
  );
  const dir = project('[defaults]\nremote_user = x ; inline comment\n');
  mkdirSync(join(dir, 'sub'));
  assert.equal(ansibleSettings({}, dir, home).remoteUser, 'x');
});

test('ansible.cfg: an empty ANSIBLE_* variable or setting is no setting (ANSIBLE_VAULT_PASSWORD_FILE= clears it)', () => {
  const dir = project('[defaults]\nremote_user =\n');
  const s = ansibleSettings({ ANSIBLE_VAULT_PASSWORD_FILE: '' }, dir, home);
  assert.equal(s.vaultPasswordFile, undefined);
  assert.equal(s.remoteUser, undefined);
});
