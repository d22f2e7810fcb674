import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { UsageError } from '../core/errors.js';
import { knownHostsName } from '../transport/known-hosts.js';
import {
  INNER_SSH_PORT,
  PRODUCTION_SIZE,
  innerSshAnswers,
  linkBastion,
  productionName,
  sudoPassword,
  writeProductionInventory,
} from './production.js';

/**
 * `orch lab`: real SSH hosts on this machine. Each host is a network namespace on a private bridge,
 * with its own mount, UTS and PID namespaces, an overlay of / as its root, and the machine's sshd.
 */

export interface LabConfig {
  stateDir: string;
  /** names are PREFIX1..N; namespaces `${prefix}-N` */
  prefix: string;
  /** first three octets, e.g. 10.213.0 */
  subnet: string;
  bridge: string;
  inventoryFile: string;
  /** what runs as each new host's PID 1: this script reaping sshd ("initd"), or systemd */
  init: LabInit;
  /** 'plain': N hosts on one bridge; 'production': a bastion and hosts behind it (src/lab/production.ts) */
  profile: LabProfile;
  /** the production profile's inner bridge (no address on the control machine) and its /22 */
  innerBridge: string;
  innerSubnet: string;
}

export type LabProfile = 'plain' | 'production';

export function parseLabProfile(value: string): LabProfile {
  if (value === 'plain' || value === 'production') return value;
  throw new UsageError(`unknown lab profile '${value}'`, {
    hint: 'production (a bastion, hosts behind it on port 2222, password sudo) or plain',
  });
}

export type LabInit = 'initd' | 'systemd';

export function parseLabInit(value: string): LabInit {
  if (value === 'initd' || value === 'systemd') return value;
  throw new UsageError(`unknown lab init '${value}'`, {
    hint: 'initd (the default: fast hosts without systemd) or systemd',
  });
}

export function labConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LabConfig {
  const prefix = env.ORCH_LAB_PREFIX ?? 'lab';
  const stateDir = env.ORCH_LAB_DIR ?? `/var/lib/orch-${prefix}`;
  const subnet = env.ORCH_LAB_SUBNET ?? '10.213.0';
  const [a, b, c] = subnet.split('.');
  const profileFile = join(stateDir, 'profile');
  return {
    stateDir,
    prefix,
    subnet,
    bridge: env.ORCH_LAB_BRIDGE ?? `orch${prefix}br`.slice(0, 15),
    inventoryFile: env.ORCH_LAB_INVENTORY ?? join(cwd, 'inventory', prefix === 'lab' ? 'lab' : prefix),
    init: parseLabInit(env.ORCH_LAB_INIT || 'initd'),
    // a running lab keeps the profile it was brought up with
    profile: existsSync(profileFile) ? parseLabProfile(readFileSync(profileFile, 'utf8').trim()) : 'plain',
    innerBridge: `orch${prefix}ib`.slice(0, 15),
    innerSubnet: env.ORCH_LAB_INNER_SUBNET ?? `${a}.${b}.${Number(c) + 4}`,
  };
}

export interface LabHost {
  name: string;
  address: string;
  netns: string;
  /** sshd's port (2222 behind the production profile's bastion) */
  port: number;
  /** on the inner bridge: reached only through the bastion (host 1) */
  inner: boolean;
}

const LAB_SCRIPTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'lab');
const HOST_SCRIPT = join(LAB_SCRIPTS, 'host.sh');
const BOOT_SCRIPT = join(LAB_SCRIPTS, 'boot.sh');

/** The lab network is a /22: 240 hosts per /24 (x.y.z.11–250), so up to 960 hosts; host i ≤ 240 is z.(10+i). */
const PER_OCTET = 240;
export const MAX_LAB_HOSTS = 4 * PER_OCTET;

export function hostAt(cfg: LabConfig, i: number): LabHost {
  const inner = cfg.profile === 'production' && i > 1;
  const [a, b, c] = (inner ? cfg.innerSubnet : cfg.subnet).split('.').map(Number) as [number, number, number];
  const k = i - 1;
  const address = `${a}.${b}.${c + Math.floor(k / PER_OCTET)}.${11 + (k % PER_OCTET)}`;
  return {
    name: `${cfg.prefix}${i}`,
    address,
    netns: `orch-${cfg.prefix}-${i}`,
    port: inner ? INNER_SSH_PORT : 22,
    inner,
  };
}

function checkPlatform(): void {
  if (process.platform !== 'linux') throw new UsageError('orch lab needs Linux (network and mount namespaces)');
  if (process.getuid?.() !== 0)
    throw new UsageError('orch lab must run as root (it creates namespaces, a bridge and mounts)', {
      hint: 'Run it with sudo, or use an inventory of real hosts.',
    });
  if (!existsSync('/usr/sbin/sshd'))
    throw new UsageError('openssh-server is not installed', {
      hint: 'apt-get install -y openssh-server (npm run setup does it)',
    });
}

function sshAnswers(address: string, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port: 22, timeout: timeoutMs });
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('SSH-'));
    });
    sock.once('timeout', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', () => resolve(false));
  });
}

export function labHosts(cfg: LabConfig): LabHost[] {
  const dir = join(cfg.stateDir, 'run');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(f.slice(cfg.prefix.length).replace('.pid', '')))
    .filter((n) => Number.isInteger(n) && n > 0)
    .sort((a, b) => a - b)
    .map((n) => hostAt(cfg, n));
}

/** Group layout of the lab inventory: the seeds' stack on N hosts. */
export function labGroups(names: string[]): Record<string, string[]> {
  const n = names.length;
  if (n === 0) return {};
  if (n === 1) return { lb: names, web: names, db: names };
  if (n === 2) return { lb: [names[0] as string], web: [names[0] as string], db: [names[1] as string] };
  return { lb: [names[0] as string], web: names.slice(1, n - 1), db: [names[n - 1] as string] };
}

function writeInventory(cfg: LabConfig, hosts: LabHost[]): void {
  const groups = labGroups(hosts.map((h) => h.name));
  const lines = ['# Written by `orch lab up`: local lab hosts (network namespaces on this machine).', '[lab]'];
  for (const h of hosts) lines.push(`${h.name} ansible_host=${h.address}`);
  for (const [g, members] of Object.entries(groups)) lines.push('', `[${g}]`, ...members);
  lines.push(
    '',
    '[all:vars]',
    'ansible_user=deploy',
    `ansible_ssh_private_key_file=${join(cfg.stateDir, 'id_ed25519')}`,
    `orch_known_hosts_file=${join(cfg.stateDir, 'known_hosts')}`,
    'orch_lab=true',
    '',
  );
  mkdirSync(dirname(cfg.inventoryFile), { recursive: true });
  writeFileSync(cfg.inventoryFile, lines.join('\n'));
}

function vethName(cfg: LabConfig, h: LabHost): string {
  return `${cfg.prefix.slice(0, 6)}v${h.name.slice(cfg.prefix.length)}`;
}

/** Locally administered unicast MAC (02:00:…) carrying the IPv4 address's four bytes. */
function macFor(address: string): string {
  return ['02', '00', ...address.split('.').map((n) => Number(n).toString(16).padStart(2, '0'))].join(':');
}

/** The init a host was started with (kept across resets). */
export function hostInit(cfg: LabConfig, h: LabHost): LabInit {
  const f = join(cfg.stateDir, 'run', `${h.name}.init`);
  return existsSync(f) ? parseLabInit(readFileSync(f, 'utf8').trim()) : 'initd';
}

/** A systemd host's cgroup (in the control machine's unified hierarchy) outlives it: remove its tree. */
async function removeHostCgroup(cfg: LabConfig, h: LabHost): Promise<void> {
  const f = join(cfg.stateDir, 'run', `${h.name}.cgroup`);
  if (!existsSync(f)) return;
  const dir = readFileSync(f, 'utf8').trim();
  if (!dir.startsWith('/sys/fs/cgroup/') || !dir.endsWith(`/orch-lab-${h.name}`)) return;
  for (let i = 0; i < 50 && existsSync(dir); i++) {
    await $`find ${dir} -depth -type d -exec rmdir {} +`.nothrow();
    if (existsSync(dir)) await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(f, { force: true });
}

async function startHost(cfg: LabConfig, h: LabHost, init: LabInit): Promise<void> {
  const keys = join(cfg.stateDir, 'keys');
  if (!existsSync(join(keys, h.name))) await $`ssh-keygen -q -t ed25519 -N ${''} -C ${h.name} -f ${join(keys, h.name)}`;
  if (!existsSync(`/run/netns/${h.netns}`)) {
    const veth = vethName(cfg, h);
    await $`ip link del ${veth}`.nothrow(); // a leftover of a lab that was not taken down
    await $`ip netns add ${h.netns}`;
    await $`ip link add ${veth} type veth peer name eth0 netns ${h.netns}`;
    await $`ip link set ${veth} master ${h.inner ? cfg.innerBridge : cfg.bridge} up`;
    // A MAC derived from the address: after a reset the control machine's ARP entry still holds.
    await $`ip -n ${h.netns} link set eth0 address ${macFor(h.address)}`;
    await $`ip -n ${h.netns} addr add ${h.address}/22 dev eth0`;
    await $`ip -n ${h.netns} link set eth0 up`;
    await $`ip -n ${h.netns} link set lo up`;
    if (cfg.profile === 'production' && !h.inner) await linkBastion(cfg, h);
  }
  rmSync(join(cfg.stateDir, 'run', `${h.name}.ready`), { force: true });
  const logFd = openSync(join(cfg.stateDir, 'run', `${h.name}.log`), 'a');
  writeFileSync(join(cfg.stateDir, 'run', `${h.name}.init`), `${init}\n`);
  // a systemd host can reboot itself: boot.sh boots it again (an init.d host has no reboot to offer)
  const boot =
    init === 'systemd'
      ? ['bash', BOOT_SCRIPT]
      : [
          'unshare',
          '--mount',
          '--uts',
          '--pid',
          '--fork',
          '--kill-child=SIGKILL',
          '--propagation',
          'private',
          'bash',
          HOST_SCRIPT,
        ];
  const child = spawn('ip', ['netns', 'exec', h.netns, ...boot, h.name, cfg.stateDir, init], {
    detached: true,
    stdio: ['ignore', logFd, logFd],
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      ORCH_LAB_SSHD_LOGLEVEL: process.env.ORCH_LAB_SSHD_LOGLEVEL ?? '',
      ...profileEnv(cfg, h),
    },
  });
  closeSync(logFd);
  child.unref();
  writeFileSync(join(cfg.stateDir, 'run', `${h.name}.pid`), `${child.pid}\n`);
}

/** What host.sh makes different on a production-profile host: port, hostname, password sudo. */
function profileEnv(cfg: LabConfig, h: LabHost): Record<string, string> {
  if (cfg.profile !== 'production') return {};
  return {
    ORCH_LAB_SSH_PORT: String(h.port),
    ORCH_LAB_HOSTNAME: productionName(cfg, h),
    ORCH_LAB_SUDO_PASSWORD: sudoPassword(cfg),
  };
}

/** sshd answers: directly, or for a host behind the bastion, from the bastion's network namespace. */
function answers(cfg: LabConfig, h: LabHost): Promise<boolean> {
  return h.inner ? innerSshAnswers(cfg, h) : sshAnswers(h.address);
}

async function running(cfg: LabConfig, h: LabHost): Promise<boolean> {
  const pidFile = join(cfg.stateDir, 'run', `${h.name}.pid`);
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return answers(cfg, h);
}

export async function labUp(
  cfg: LabConfig,
  count: number,
  log: (s: string) => void = () => undefined,
): Promise<LabHost[]> {
  checkPlatform();
  const profileFile = join(cfg.stateDir, 'profile');
  const had = existsSync(join(cfg.stateDir, 'run')) && labHosts(cfg).length > 0;
  if (had && existsSync(profileFile) !== (cfg.profile === 'production')) {
    throw new UsageError(`the lab ${cfg.prefix} is up with another profile`, { hint: 'orch lab down first' });
  }
  if (cfg.profile === 'production') count = PRODUCTION_SIZE;
  if (!Number.isInteger(count) || count < 1 || count > MAX_LAB_HOSTS)
    throw new UsageError(`lab size must be between 1 and ${MAX_LAB_HOSTS} hosts`);
  if (Number(cfg.subnet.split('.')[2]) % 4 !== 0)
    throw new UsageError(`ORCH_LAB_SUBNET ${cfg.subnet}: the third number must be a multiple of 4 (the lab is a /22)`);
  if (
    cfg.profile === 'production' &&
    (Number(cfg.innerSubnet.split('.')[2]) % 4 !== 0 || cfg.innerSubnet === cfg.subnet)
  ) {
    throw new UsageError(
      `ORCH_LAB_INNER_SUBNET ${cfg.innerSubnet}: another /22 than the lab's (${cfg.subnet}), its third number a multiple of 4`,
    );
  }
  $.quiet = true;
  for (const d of ['keys', 'run', 'hosts']) mkdirSync(join(cfg.stateDir, d), { recursive: true, mode: 0o700 });
  if (cfg.profile === 'production') writeFileSync(profileFile, 'production\n');
  if (!existsSync(join(cfg.stateDir, 'id_ed25519')))
    await $`ssh-keygen -q -t ed25519 -N ${''} -C orch-lab -f ${join(cfg.stateDir, 'id_ed25519')}`;
  if (!existsSync(`/sys/class/net/${cfg.bridge}`)) {
    await $`ip link add ${cfg.bridge} type bridge`;
    await $`ip addr add ${cfg.subnet}.1/22 dev ${cfg.bridge}`;
    await $`ip link set ${cfg.bridge} up`;
  }
  const hosts = Array.from({ length: count }, (_, i) => hostAt(cfg, i + 1));
  const started: LabHost[] = [];
  for (const h of hosts) {
    if (await running(cfg, h)) continue;
    await startHost(cfg, h, cfg.init);
    started.push(h);
  }
  // systemd hosts boot for a few seconds each on a loaded machine.
  const deadline = Date.now() + (cfg.init === 'systemd' ? 120_000 : 60_000);
  for (const h of hosts) {
    while (!(await answers(cfg, h))) {
      if (Date.now() > deadline) {
        throw new UsageError(`lab host ${h.name} did not start sshd within ${cfg.init === 'systemd' ? 120 : 60} s`, {
          hint: `See ${join(cfg.stateDir, 'hosts', h.name, 'upper/var/log/orch-lab-sshd.log')}`,
        });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const all = labHosts(cfg);
  const known = all.map(
    (h) =>
      `${knownHostsName(h.address, h.port)} ${readFileSync(join(cfg.stateDir, 'keys', `${h.name}.pub`), 'utf8')
        .split(' ')
        .slice(0, 2)
        .join(' ')}`,
  );
  writeFileSync(join(cfg.stateDir, 'known_hosts'), `${known.join('\n')}\n`);
  if (cfg.profile === 'production') {
    const dir = writeProductionInventory(cfg, all);
    log(
      `lab: production profile up (bastion ${all[0]?.address}, ${all.length - 1} hosts behind it on port ${INNER_SSH_PORT}); inventory written to ${dir}\n`,
    );
    return all;
  }
  writeInventory(cfg, all);
  log(`lab: ${all.length} hosts up (${started.length} started now); inventory written to ${cfg.inventoryFile}\n`);
  return all;
}

export async function labDown(cfg: LabConfig, log: (s: string) => void = () => undefined): Promise<void> {
  checkPlatform();
  $.quiet = true;
  const hosts = labHosts(cfg);
  // Also catch namespaces whose pid file was lost.
  const namespaces = new Set(hosts.map((h) => h.netns));
  if (existsSync('/run/netns'))
    for (const ns of readdirSync('/run/netns')) if (ns.startsWith(`orch-${cfg.prefix}-`)) namespaces.add(ns);
  for (const ns of namespaces) {
    const pids = (await $`ip netns pids ${ns}`.nothrow()).stdout.split('\n').filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  for (const h of hosts) {
    const pidFile = join(cfg.stateDir, 'run', `${h.name}.pid`);
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await new Promise((r) => setTimeout(r, 200));
  for (const h of hosts) await removeHostCgroup(cfg, h);
  for (const ns of namespaces) await $`ip netns del ${ns}`.nothrow();
  for (const h of hosts) await $`ip link del ${vethName(cfg, h)}`.nothrow();
  for (const br of [cfg.bridge, cfg.innerBridge])
    if (existsSync(`/sys/class/net/${br}`)) await $`ip link del ${br}`.nothrow();
  // The overlay upper dirs may still be busy for a moment after the processes die.
  for (let i = 0; i < 20; i++) {
    try {
      rmSync(cfg.stateDir, { recursive: true, force: true });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  rmSync(cfg.inventoryFile, { force: true });
  log(`lab: ${namespaces.size} hosts removed\n`);
}

/**
 * Throw a host's changes away: stop it, delete its layer, boot it fresh (same key, same address), with
 * the init it had or the one given.
 */
export async function labReset(cfg: LabConfig, names: string[], init?: LabInit): Promise<void> {
  return restartHosts(cfg, names, { init, keepLayer: false });
}

/**
 * A reboot: stop the host (SIGKILL to its namespace, as a power cut) and boot it again on the same layer,
 * in a fresh network namespace (net.* sysctls come back from the host's own config, as after a reboot).
 */
export async function labReboot(cfg: LabConfig, names: string[]): Promise<void> {
  return restartHosts(cfg, names, { keepLayer: true });
}

async function restartHosts(
  cfg: LabConfig,
  names: string[],
  opts: { init?: LabInit; keepLayer: boolean },
): Promise<void> {
  checkPlatform();
  $.quiet = true;
  const hosts = labHosts(cfg).filter((h) => names.includes(h.name));
  const unknown = names.filter((n) => !hosts.some((h) => h.name === n));
  if (unknown.length > 0) throw new UsageError(`not lab hosts: ${unknown.join(', ')}`);
  for (const h of hosts) {
    const pids = (await $`ip netns pids ${h.netns}`.nothrow()).stdout.split('\n').filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  for (const h of hosts) {
    const deadline = Date.now() + 10_000;
    while ((await $`ip netns pids ${h.netns}`.nothrow()).stdout.trim() !== '' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await removeHostCgroup(cfg, h);
    if (!opts.keepLayer) rmSync(join(cfg.stateDir, 'hosts', h.name), { recursive: true, force: true });
    // A new network namespace too: net.* sysctls set by a play live there, not in the layer.
    await $`ip netns del ${h.netns}`.nothrow();
    await startHost(cfg, h, opts.init ?? hostInit(cfg, h));
  }
  for (const h of hosts) {
    const deadline = Date.now() + 120_000;
    while (!(await answers(cfg, h))) {
      if (Date.now() > deadline) throw new UsageError(`lab host ${h.name} did not come back`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export async function labStatus(cfg: LabConfig): Promise<{ host: LabHost; up: boolean; init: LabInit }[]> {
  return Promise.all(
    labHosts(cfg).map(async (host) => ({ host, up: await answers(cfg, host), init: hostInit(cfg, host) })),
  );
}
