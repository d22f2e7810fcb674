import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../../src/core/events.js';

/**
 * Helpers for tests that run against the test lab brought up by test/run.mjs. With
 * ORCH_TEST_PROFILE=production that lab is `orch lab up --profile production`: the hosts are the
 * inventory's lb1, web1, web2, db1 behind the lab's bastion (port 2222, sudo with a password), and the
 * same helpers reach them through the bastion (ssh -F the lab's ssh_config, sudo -S).
 */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ORCH = join(ROOT, 'bin', 'orch');
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';
export const PRODUCTION = process.env.ORCH_TEST_PROFILE === 'production';
export const INVENTORY = PRODUCTION
  ? join(LAB_DIR, 'production')
  : (process.env.ORCH_LAB_INVENTORY ?? join(ROOT, '.orch', 'test-lab', 'inventory'));
const PREFIX = process.env.ORCH_LAB_PREFIX ?? 'orcht';
const SUBNET = process.env.ORCH_LAB_SUBNET ?? '10.214.0';
const PRODUCTION_HOSTS = ['lb1', 'web1', 'web2', 'db1'];

export const HOSTS = PRODUCTION
  ? PRODUCTION_HOSTS
  : Array.from({ length: Number(process.env.ORCH_TEST_LAB_SIZE ?? 4) }, (_, i) => `${PREFIX}${i + 1}`);

/** The host's name for `orch lab` (production: lb1 is the lab's host 2, host 1 being the bastion). */
export function labName(host: string): string {
  return PRODUCTION ? `${PREFIX}${PRODUCTION_HOSTS.indexOf(host) + 2}` : host;
}

export function addressOf(host: string): string {
  if (PRODUCTION) {
    const [a, b, c] = SUBNET.split('.').map(Number) as [number, number, number];
    return `${process.env.ORCH_LAB_INNER_SUBNET ?? `${a}.${b}.${c + 4}`}.${12 + PRODUCTION_HOSTS.indexOf(host)}`;
  }
  return `${SUBNET}.${10 + Number(host.slice(PREFIX.length))}`;
}

/** Environment of orch runs: the production inventory's vault password file. */
function orchEnv(): NodeJS.ProcessEnv {
  return PRODUCTION ? { ORCH_VAULT_PASSWORD_FILE: join(LAB_DIR, 'vault-pass') } : {};
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a command on a lab host through the system's OpenSSH client: independent of orch's transport,
 * so tests check effects with something orch did not write.
 */
export function onHost(host: string, command: string): CommandResult {
  // production: deploy's sudo asks for the password (given on stdin, before the command's own input)
  const sudo = PRODUCTION ? `sudo -S -p '' sh -c ${shq(command)}` : `sudo -n sh -c ${shq(command)}`;
  const input = PRODUCTION ? `${readFileSync(join(LAB_DIR, 'sudo-password'), 'utf8').trim()}\n` : '';
  const r = spawnSync('ssh', [...sshArgv(host), sudo], { encoding: 'utf8', timeout: 60_000, input });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The plain OpenSSH client's arguments (after `ssh`) that log into a lab host as deploy with the lab's key. */
export function sshArgv(host: string): string[] {
  if (PRODUCTION) return ['-q', '-F', join(LAB_DIR, 'ssh_config'), '-o', 'BatchMode=yes', `deploy@${addressOf(host)}`];
  return [
    '-q',
    '-i',
    join(LAB_DIR, 'id_ed25519'),
    '-o',
    `UserKnownHostsFile=${join(LAB_DIR, 'known_hosts')}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    `deploy@${addressOf(host)}`,
  ];
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface OrchRun extends CommandResult {
  events: RunEvent[];
}

/** Run the orch CLI (built dist) with NDJSON output and parse the events. */
export function orch(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; json?: boolean; input?: string } = {},
): OrchRun {
  const json = opts.json ?? true;
  const r = spawnSync(ORCH, json ? [...args, '--output', 'json'] : args, {
    encoding: 'utf8',
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CI: '1', ...orchEnv(), ...opts.env },
    timeout: 600_000,
    input: opts.input,
  });
  const events: RunEvent[] = [];
  if (json) {
    for (const line of r.stdout.split('\n')) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line) as RunEvent);
      } catch {
        /* non-JSON line */
      }
    }
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, events };
}

/** Start orch in the background (for interrupt and concurrency tests). */
export function orchBackground(args: string[], cwd = ROOT) {
  return spawn(ORCH, [...args, '--output', 'json'], {
    cwd,
    env: { ...process.env, CI: '1', ...orchEnv() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Write a playbook (and optional extra files) into a fresh temp dir; returns the playbook path. */
export function writePlaybook(yaml: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-test-'));
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name);
    spawnSync('mkdir', ['-p', dirname(p)]);
    writeFileSync(p, content);
  }
  const pb = join(dir, 'playbook.yml');
  writeFileSync(pb, yaml);
  return pb;
}

/** Apply a playbook to the test lab; returns the run and per-host recap. */
export function apply(
  playbook: string,
  extra: string[] = [],
  opts: { cwd?: string } = {},
): OrchRun & {
  recap: Record<string, { ok: number; changed: number; failed: number; skipped: number; unreachable: number }>;
} {
  const r = orch(['run', INVENTORY, playbook, ...extra], opts);
  const recapEvent = r.events.find((e) => e.type === 'recap');
  return { ...r, recap: recapEvent?.type === 'recap' ? recapEvent.stats : {} };
}

export function results(run: OrchRun, task?: string): Extract<RunEvent, { type: 'host_result' }>[] {
  return run.events.filter(
    (e): e is Extract<RunEvent, { type: 'host_result' }> =>
      e.type === 'host_result' && (task === undefined || e.task === task),
  );
}

export function totalChanged(recap: Record<string, { changed: number }>): number {
  return Object.values(recap).reduce((n, s) => n + s.changed, 0);
}

/** Apply twice: the first run must succeed, the second must report changed=0 on every host. */
export function applyTwiceConverges(
  playbook: string,
  extra: string[] = [],
): { first: ReturnType<typeof apply>; second: ReturnType<typeof apply> } {
  const first = apply(playbook, extra);
  if (first.code !== 0)
    throw new Error(`first apply failed (exit ${first.code}):\n${first.stderr}\n${failures(first)}`);
  const second = apply(playbook, extra);
  if (second.code !== 0)
    throw new Error(`second apply failed (exit ${second.code}):\n${second.stderr}\n${failures(second)}`);
  const changed = results(second).filter((r) => r.status === 'changed');
  if (changed.length > 0)
    throw new Error(`second apply changed things: ${changed.map((c) => `${c.host}: ${c.task}`).join('; ')}`);
  return { first, second };
}

export function failures(run: OrchRun): string {
  return results(run)
    .filter((r) => r.status === 'failed' || r.status === 'unreachable')
    .map((r) => `${r.host} ${r.task}: ${r.msg ?? ''} ${r.stderr ?? ''}`)
    .join('\n');
}

/** Throw away everything a test did to a lab host: it boots again from a clean layer. */
export function resetHost(...hosts: string[]): void {
  const r = spawnSync(ORCH, ['lab', 'reset', ...hosts.map(labName)], { encoding: 'utf8', env: process.env });
  if (r.status !== 0) throw new Error(`lab reset failed: ${r.stderr}`);
}

/** A playbook that applies the given roles of this repository to one host. */
export function rolePlaybook(host: string, roles: string[], extra = ''): string {
  return writePlaybook(`- hosts: ${host}\n  become: yes\n${extra}  roles: [${roles.join(', ')}]\n`);
}

/** A copy of the test lab inventory with other group members (and optional host lines with vars). */
export function inventoryWithGroups(groups: Record<string, string[]>, extraHostLines = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-inv-'));
  const file = PRODUCTION ? join(INVENTORY, 'hosts') : INVENTORY;
  const lines = readFileSync(file, 'utf8').split('\n');
  // production: the host lines stand in their groups; the group_vars (with the vault) come along
  const head = PRODUCTION
    ? ['[lab]', ...lines.filter((l) => / ansible_host=/.test(l))]
    : lines.slice(0, lines.indexOf('[lb]'));
  if (PRODUCTION && existsSync(join(INVENTORY, 'group_vars')))
    cpSync(join(INVENTORY, 'group_vars'), join(dir, 'group_vars'), { recursive: true });
  const vars = lines.slice(lines.indexOf('[all:vars]'));
  const sections = Object.entries(groups).flatMap(([g, hosts]) => [`[${g}]`, ...hosts, '']);
  writeFileSync(join(dir, 'hosts'), [...head, extraHostLines, ...sections, ...vars].join('\n'));
  return join(dir, 'hosts');
}

/**
 * A bounded client loop on a lab host, in the background: `count` requests to `url`, 3 s cap each,
 * `format` ('status' writes the HTTP code, 'body' the response) one per line into `file`.
 */
export function startClientLoop(
  host: string,
  url: string,
  count: number,
  file: string,
  format: 'status' | 'body',
): void {
  const curl =
    format === 'status'
      ? `curl -s -o /dev/null -m 3 -w '%{http_code}\\n' ${url}`
      : `curl -s -m 3 ${url} || echo FAILED`;
  onHost(
    host,
    `rm -f ${file}; (for i in $(seq ${count}); do ${curl} >> ${file}; sleep 0.02; done; echo END >> ${file}) > /dev/null 2>&1 &`,
  );
}

/** Wait (at most 2 minutes) for a client loop to finish; returns its lines. */
export function waitClientLoop(host: string, file: string): string[] {
  for (let i = 0; i < 240; i++) {
    const out = onHost(host, `cat ${file} 2>/dev/null`).stdout;
    if (out.includes('END')) return out.split('\n').filter((l) => l && l !== 'END');
    onHost(host, 'sleep 0.5');
  }
  throw new Error('client loop did not finish');
}

/**
 * A one-host inventory both orch and ansible-playbook read: the lab host's line in `group`, the lab's variables,
 * and what Ansible needs besides (the lab's known_hosts, Debian's python3). Its file name is its own: the run
 * lock is per inventory name.
 */
export function oneHostInventory(host: string, group: string, inventory = INVENTORY, labDir = LAB_DIR): string {
  return hostsInventory([host], group, inventory, labDir);
}

/** The same for several lab hosts, all in `group`. */
export function hostsInventory(hosts: string[], group: string, inventory = INVENTORY, labDir = LAB_DIR): string {
  const lab = readFileSync(inventory, 'utf8');
  const lines = hosts.map((host) => lab.split('\n').find((l) => l.startsWith(`${host} `)) ?? host);
  const vars = lab.slice(lab.indexOf('[all:vars]'));
  const file = join(mkdtempSync(join(tmpdir(), `orch-${group}-`)), `${group}-${hosts.join('-')}`);
  writeFileSync(
    file,
    `[${group}]\n${lines.join('\n')}\n\n${vars}\nansible_ssh_common_args=-o UserKnownHostsFile=${labDir}/known_hosts\nansible_python_interpreter=/usr/bin/python3\n`,
  );
  return file;
}
