import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ParseError } from '../core/errors.js';

/**
 * The settings of ansible.cfg (and their ANSIBLE_* environment variables) that orch honours. A user's project
 * has one next to its playbooks; orch reads it as ansible-playbook does so the same command line works.
 */
export interface AnsibleSettings {
  /** the file read, if any */
  file?: string;
  inventory?: string;
  rolesPath: string[];
  remoteUser?: string;
  privateKeyFile?: string;
  forks?: number;
  vaultPasswordFile?: string;
  /** false: unknown host keys are accepted (with a warning); a changed key is still refused */
  hostKeyChecking: boolean;
  timeoutSeconds?: number;
  /** false: a notified handler that does not exist is a warning, not an error that stops the run */
  errorOnMissingHandler: boolean;
  become?: boolean;
  becomeMethod?: string;
  becomeFlags?: string;
  becomeUser?: string;
  sshArgs?: string;
  sshCommonArgs?: string;
  sshExtraArgs?: string;
  /** what was read and not applied, said once at the start of a run */
  notes: string[];
}

type Ini = Map<string, Map<string, string>>;

/** configparser as Ansible uses it: `[section]`, `key = value` or `key: value`, `#`/`;` comments. */
export function parseIni(text: string, file: string): Ini {
  const out: Ini = new Map();
  let section: Map<string, string> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) return;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) {
      section = new Map();
      out.set((head[1] ?? '').trim(), section);
      return;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!kv || !section)
      throw new ParseError(
        `not a setting: ${line.slice(0, 60)}`,
        { file, line: i + 1 },
        'ansible.cfg lines are `key = value` under a [section].',
      );
    section.set((kv[1] ?? '').toLowerCase(), (kv[2] ?? '').replace(/\s+;.*$/, ''));
  });
  return out;
}

/** Where Ansible looks: $ANSIBLE_CONFIG, ./ansible.cfg, ~/.ansible.cfg, /etc/ansible/ansible.cfg. */
export function findConfig(env: NodeJS.ProcessEnv, cwd: string, home = homedir()): string | undefined {
  const candidates = [
    env.ANSIBLE_CONFIG,
    join(cwd, 'ansible.cfg'),
    join(home, '.ansible.cfg'),
    '/etc/ansible/ansible.cfg',
  ];
  return candidates.find((c): c is string => typeof c === 'string' && c !== '' && existsSync(c));
}

const TRUE = /^(1|true|yes|on|y|t)$/i;

function expandPath(p: string, base: string, home: string): string {
  const h = p.startsWith('~') ? join(home, p.slice(1)) : p;
  return isAbsolute(h) ? h : resolve(base, h);
}

export function ansibleSettings(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  home = homedir(),
): AnsibleSettings {
  const file = findConfig(env, cwd, home);
  const ini = file ? parseIni(readFileSync(file, 'utf8'), file) : new Map<string, Map<string, string>>();
  const base = file ? dirname(file) : cwd;
  // the environment variable wins over the file, as in Ansible
  // an empty value (ANSIBLE_X= or `key =`) is no setting
  const get = (section: string, key: string, envName: string): string | undefined =>
    env[envName] || ini.get(section)?.get(key) || undefined;
  const path = (v: string | undefined) => (v === undefined ? undefined : expandPath(v, base, home));
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new ParseError(`${name} must be a positive whole number, not '${v}'`, { file: file ?? name });
    return n;
  };
  const rolesPath = (
    get('defaults', 'roles_path', 'ANSIBLE_ROLES_PATH') ??
    '~/.ansible/roles:/usr/share/ansible/roles:/etc/ansible/roles'
  )
    .split(':')
    .filter(Boolean)
    .map((p) => expandPath(p, base, home));
  const hostKeyChecking = get('defaults', 'host_key_checking', 'ANSIBLE_HOST_KEY_CHECKING');
  const become = get('privilege_escalation', 'become', 'ANSIBLE_BECOME');
  const missingHandler = get('defaults', 'error_on_missing_handler', 'ANSIBLE_ERROR_ON_MISSING_HANDLER');
  const notes: string[] = [];
  const ssh = ini.get('ssh_connection');
  for (const key of ['pipelining', 'control_path', 'control_path_dir']) {
    if (ssh?.has(key))
      notes.push(
        `ansible.cfg [ssh_connection] ${key} is not used: orch keeps one SSH connection per host and sends commands on it`,
      );
  }
  return {
    file,
    inventory: path(get('defaults', 'inventory', 'ANSIBLE_INVENTORY')?.split(',')[0]),
    rolesPath,
    remoteUser: get('defaults', 'remote_user', 'ANSIBLE_REMOTE_USER'),
    privateKeyFile: path(get('defaults', 'private_key_file', 'ANSIBLE_PRIVATE_KEY_FILE')),
    forks: num(get('defaults', 'forks', 'ANSIBLE_FORKS'), 'forks'),
    vaultPasswordFile: path(get('defaults', 'vault_password_file', 'ANSIBLE_VAULT_PASSWORD_FILE')),
    hostKeyChecking: hostKeyChecking === undefined ? true : TRUE.test(hostKeyChecking),
    timeoutSeconds: num(get('defaults', 'timeout', 'ANSIBLE_TIMEOUT'), 'timeout'),
    errorOnMissingHandler: missingHandler === undefined || TRUE.test(missingHandler),
    become: become === undefined ? undefined : TRUE.test(become),
    becomeMethod: get('privilege_escalation', 'become_method', 'ANSIBLE_BECOME_METHOD'),
    becomeFlags: get('privilege_escalation', 'become_flags', 'ANSIBLE_BECOME_FLAGS'),
    becomeUser: get('privilege_escalation', 'become_user', 'ANSIBLE_BECOME_USER'),
    // read as ansible_ssh_common_args is: -F, -o Key=Value, -J, -p, -l, -i (process options are skipped)
    sshArgs: get('ssh_connection', 'ssh_args', 'ANSIBLE_SSH_ARGS'),
    sshCommonArgs: get('ssh_connection', 'ssh_common_args', 'ANSIBLE_SSH_COMMON_ARGS'),
    sshExtraArgs: get('ssh_connection', 'ssh_extra_args', 'ANSIBLE_SSH_EXTRA_ARGS'),
    notes,
  };
}

/** Connection variables the settings give, at the lowest precedence (inventory and play vars win). */
export function settingsVariables(s: AnsibleSettings): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  if (s.remoteUser !== undefined) vars.ansible_user = s.remoteUser;
  if (s.privateKeyFile !== undefined) vars.ansible_ssh_private_key_file = s.privateKeyFile;
  if (s.becomeMethod !== undefined) vars.ansible_become_method = s.becomeMethod;
  if (s.becomeFlags !== undefined) vars.ansible_become_flags = s.becomeFlags;
  if (s.becomeUser !== undefined) vars.ansible_become_user = s.becomeUser;
  if (s.sshArgs !== undefined) vars.ansible_ssh_args = s.sshArgs;
  if (s.sshCommonArgs !== undefined) vars.ansible_ssh_common_args = s.sshCommonArgs;
  if (s.sshExtraArgs !== undefined) vars.ansible_ssh_extra_args = s.sshExtraArgs;
  return vars;
}
