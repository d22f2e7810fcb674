/**
 * One lab host: started in its own network namespace on the bridge (a veth pair, a MAC from its address)
 * by host.sh (or boot.sh for systemd), whether its sshd answers, and the cgroup a systemd host leaves.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { innerSshAnswers, linkBastion, productionName, sudoPassword } from './production.js';
import { type LabConfig, type LabHost, type LabInit } from './config.js';

const LAB_SCRIPTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'lab');
const HOST_SCRIPT = join(LAB_SCRIPTS, 'host.sh');
const BOOT_SCRIPT = join(LAB_SCRIPTS, 'boot.sh');

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

export function vethName(cfg: LabConfig, h: LabHost): string {
  return `${cfg.prefix.slice(0, 6)}v${h.name.slice(cfg.prefix.length)}`;
}

/** Locally administered unicast MAC (02:00:…) carrying the IPv4 address's four bytes. */
function macFor(address: string): string {
  return ['02', '00', ...address.split('.').map((n) => Number(n).toString(16).padStart(2, '0'))].join(':');
}

/** A systemd host's cgroup (in the control machine's unified hierarchy) outlives it: remove its tree. */
export async function removeHostCgroup(cfg: LabConfig, h: LabHost): Promise<void> {
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

export async function startHost(cfg: LabConfig, h: LabHost, init: LabInit): Promise<void> {
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
export function answers(cfg: LabConfig, h: LabHost): Promise<boolean> {
  return h.inner ? innerSshAnswers(cfg, h) : sshAnswers(h.address);
}

/**
 * The process the host's pid file names, if it is still that host's: once it ended, the kernel may give its
 * number to any other process (killing that one would kill a stranger: a test run, a shell).
 */
export function hostProcess(cfg: LabConfig, h: LabHost): number | undefined {
  try {
    const pid = Number(readFileSync(join(cfg.stateDir, 'run', `${h.name}.pid`), 'utf8'));
    // started as `… host.sh|boot.sh NAME STATE_DIR INIT` (ip netns exec and unshare exec into it)
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = argv.indexOf(h.name);
    return i >= 0 && argv[i + 1] === cfg.stateDir ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function running(cfg: LabConfig, h: LabHost): Promise<boolean> {
  return hostProcess(cfg, h) !== undefined && answers(cfg, h);
}
