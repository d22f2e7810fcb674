import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { vaultEncrypt } from '../vault/format.js';
import type { LabConfig, LabHost } from './config.js';

/**
 * The production profile (`orch lab up --profile production`): the shape of inventory/production.
 * Host 1 is a bastion on the lab's bridge (port 22); hosts 2–5 (lb1, web1, web2, db1) sit on a second
 * bridge that has no address on the control machine, so they are reached only through the bastion
 * (ProxyJump), with sshd on port 2222. Every host's login user `deploy` needs a password for sudo; the
 * password is in a vault file of the working inventory, its vault password in a file beside it.
 */

export const INNER_SSH_PORT = 2222;
/** Inventory names of hosts 2.. (host 1 is the bastion); groups as in inventory/production */
export const PRODUCTION_HOSTS = ['lb1', 'web1', 'web2', 'db1'] as const;
export const PRODUCTION_SIZE = PRODUCTION_HOSTS.length + 1;
const GROUPS: Record<string, string[]> = { lb: ['lb1'], web: ['web1', 'web2'], db: ['db1'], backup: [] };

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the working copy of inventory/production is written (removed with the lab). */
export function productionInventoryDir(cfg: LabConfig): string {
  return join(cfg.stateDir, 'production');
}

/** `ssh -F` this file reaches every host of the production profile (through the bastion). */
export function productionSshConfig(cfg: LabConfig): string {
  return join(cfg.stateDir, 'ssh_config');
}

/** The vault password of the working inventory's vault file. */
export function productionVaultPasswordFile(cfg: LabConfig): string {
  return join(cfg.stateDir, 'vault-pass');
}

/** The name a lab host has in the production inventory (and as its hostname). */
export function productionName(cfg: LabConfig, h: LabHost): string {
  return h.inner ? (PRODUCTION_HOSTS[Number(h.name.slice(cfg.prefix.length)) - 2] ?? h.name) : 'bastion';
}

/** deploy's password (sudo asks for it), made once per lab. */
export function sudoPassword(cfg: LabConfig): string {
  const f = join(cfg.stateDir, 'sudo-password');
  if (!existsSync(f)) writeFileSync(f, `${randomBytes(12).toString('base64url')}\n`, { mode: 0o600 });
  return readFileSync(f, 'utf8').trim();
}

/** The bastion's second leg: eth1 on the inner bridge (address .10), no forwarding between its legs. */
export async function linkBastion(cfg: LabConfig, bastion: LabHost): Promise<void> {
  if (!existsSync(`/sys/class/net/${cfg.innerBridge}`)) {
    // No address on the control machine's side: the control machine has no route into it.
    await $`ip link add ${cfg.innerBridge} type bridge`;
    await $`ip link set ${cfg.innerBridge} up`;
  }
  const veth = `${cfg.prefix.slice(0, 6)}b${bastion.name.slice(cfg.prefix.length)}`;
  await $`ip link del ${veth}`.nothrow();
  await $`ip link add ${veth} type veth peer name eth1 netns ${bastion.netns}`;
  await $`ip link set ${veth} master ${cfg.innerBridge} up`;
  await $`ip -n ${bastion.netns} addr add ${`${cfg.innerSubnet}.10/22`} dev eth1`;
  await $`ip -n ${bastion.netns} link set eth1 up`;
  await $`ip netns exec ${bastion.netns} sysctl -qw net.ipv4.ip_forward=0`;
}

/** Does sshd answer on an inner host? Asked from the bastion's network namespace (the only way in). */
export async function innerSshAnswers(cfg: LabConfig, h: LabHost): Promise<boolean> {
  const probe = 'exec 3<>"/dev/tcp/$1/$2" && head -c 4 <&3';
  const r =
    await $`ip netns exec ${`orch-${cfg.prefix}-1`} timeout 1 bash -c ${probe} _ ${h.address} ${String(h.port)}`.nothrow();
  return r.stdout.startsWith('SSH-');
}

/**
 * The working copy: hosts (same groups as inventory/production, lab addresses, ProxyJump), the repo's
 * group_vars, and group_vars/all/vault.yml (a vault file: ansible_become_password). Beside it in the
 * state dir: vault-pass, ssh_config (also for plain `ssh -F`) and known_hosts (`[addr]:2222` entries).
 */
export function writeProductionInventory(cfg: LabConfig, hosts: LabHost[]): string {
  const dir = productionInventoryDir(cfg);
  mkdirSync(join(dir, 'group_vars'), { recursive: true, mode: 0o700 });
  const bastion = hosts.find((h) => !h.inner);
  if (!bastion) throw new Error('production lab without its bastion');
  const key = join(cfg.stateDir, 'id_ed25519');
  // Beside the inventory directory, not in it (every file in an inventory directory is an inventory source).
  const known = join(cfg.stateDir, 'known_hosts');
  const sshConfig = productionSshConfig(cfg);
  const [a, b] = cfg.innerSubnet.split('.');
  writeFileSync(
    sshConfig,
    [
      '# Written by `orch lab up --profile production`: ssh -F this file reaches the hosts as orch does.',
      'Host bastion',
      `  HostName ${bastion.address}`,
      '  Port 22',
      '  User deploy',
      `  IdentityFile ${key}`,
      `  UserKnownHostsFile ${known}`,
      '  StrictHostKeyChecking yes',
      `Host ${a}.${b}.*`,
      '  ProxyJump bastion',
      `  Port ${INNER_SSH_PORT}`,
      '  User deploy',
      `  IdentityFile ${key}`,
      `  UserKnownHostsFile ${known}`,
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n'),
  );
  const inner = hosts.filter((h) => h.inner);
  const line = (name: string) => {
    const h = inner.find((x) => productionName(cfg, x) === name);
    return h ? `${name} ansible_host=${h.address}` : undefined;
  };
  const lines = [
    '# Written by `orch lab up --profile production`: the shape of inventory/production on lab hosts,',
    '# behind the bastion (ProxyJump), sshd on port 2222, sudo with the password in group_vars/all/vault.yml (vault).',
  ];
  for (const [g, members] of Object.entries(GROUPS))
    lines.push(`[${g}]`, ...members.map(line).filter((l): l is string => l !== undefined), '');
  lines.push(
    '[production:children]',
    ...Object.keys(GROUPS),
    '',
    '[all:vars]',
    'ansible_user=deploy',
    `ansible_port=${INNER_SSH_PORT}`,
    `ansible_ssh_private_key_file=${key}`,
    `ansible_ssh_common_args='-F ${sshConfig} -o ProxyJump=bastion'`,
    `orch_known_hosts_file=${known}`,
    '',
  );
  writeFileSync(join(dir, 'hosts'), lines.join('\n'));
  const repoVars = join(REPO, 'inventory', 'production', 'group_vars');
  for (const f of readdirSync(repoVars)) copyFileSync(join(repoVars, f), join(dir, 'group_vars', f));
  const vaultPass = productionVaultPasswordFile(cfg);
  if (!existsSync(vaultPass)) writeFileSync(vaultPass, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  const vaultPw = readFileSync(vaultPass, 'utf8').trim();
  mkdirSync(join(dir, 'group_vars', 'all'), { recursive: true, mode: 0o700 });
  writeFileSync(
    join(dir, 'group_vars', 'all', 'vault.yml'),
    vaultEncrypt(`ansible_become_password: ${JSON.stringify(sudoPassword(cfg))}\n`, vaultPw),
    { mode: 0o600 },
  );
  return dir;
}
