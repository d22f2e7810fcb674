/**
 * A lab's settings (from ORCH_LAB_* variables) and its hosts' names and addresses: host i of a lab is
 * PREFIXi at a fixed address in the lab's /22, whether or not it is up.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { INNER_SSH_PORT } from './production.js';

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

/** The init a host was started with (kept across resets). */
export function hostInit(cfg: LabConfig, h: LabHost): LabInit {
  const f = join(cfg.stateDir, 'run', `${h.name}.init`);
  return existsSync(f) ? parseLabInit(readFileSync(f, 'utf8').trim()) : 'initd';
}
