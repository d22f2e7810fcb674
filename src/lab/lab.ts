/**
 * `orch lab`: real SSH hosts on this machine. Each host is a network namespace on a private bridge,
 * with its own mount, UTS and PID namespaces, an overlay of / as its root, and the machine's sshd.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import { UsageError } from '../core/errors.js';
import { knownHostsName } from '../transport/known-hosts.js';
import { INNER_SSH_PORT, PRODUCTION_SIZE, writeProductionInventory } from './production.js';
import { hostAt, hostInit, labHosts, MAX_LAB_HOSTS, type LabConfig, type LabHost, type LabInit } from './config.js';
import { answers, hostProcess, removeHostCgroup, running, startHost, vethName } from './host.js';
import { writeInventory } from './inventory.js';

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

/**
 * Every lab host is an ARP neighbour of this machine: past ~1,000 of them (all labs together) the kernel's table
 * overflows (gc_thresh3 is 1024 by default) and connecting fails with EHOSTUNREACH. Raised, never lowered.
 */
function raiseNeighbourLimits(): void {
  const want: [string, number][] = [
    ['gc_thresh1', 1024],
    ['gc_thresh2', 4096],
    ['gc_thresh3', 8192],
  ];
  for (const [name, value] of want) raiseSysctl(`/proc/sys/net/ipv4/neigh/default/${name}`, value);
}

/**
 * A runner watches its session files with inotify (runner.pl, "Stale sessions"): one instance and ~60 watches
 * each. Every lab host's root shares this kernel's per-user limits (128 instances by default), where real hosts
 * have a kernel each; past them a runner falls back to stat checks. Raised, never lowered.
 */
function raiseInotifyLimits(): void {
  raiseSysctl('/proc/sys/fs/inotify/max_user_instances', 8192);
  raiseSysctl('/proc/sys/fs/inotify/max_user_watches', 524288);
}

function raiseSysctl(file: string, value: number): void {
  if (Number(readFileSync(file, 'utf8')) < value) writeFileSync(file, `${value}\n`);
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
  raiseNeighbourLimits();
  raiseInotifyLimits();
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
    const pid = hostProcess(cfg, h);
    try {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
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
