import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { LockError } from '../core/errors.js';

export interface LockHolder {
  user: string;
  host: string;
  pid: number;
  since: string;
  command: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** When a process started (ms since the epoch), from /proc; undefined where /proc cannot tell. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every Linux architecture orch runs on
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

export type HolderState = 'running' | 'gone' | 'elsewhere';

/**
 * Whether the run holding a lock still runs: known only on the machine it ran on. A live pid that
 * started after the lock was taken is another process that reused the number: the holder is gone.
 */
export function holderState(h: { host: string; pid: number; since: string }): HolderState {
  if (h.host !== hostname()) return 'elsewhere';
  if (!Number.isInteger(h.pid) || h.pid <= 0 || !pidAlive(h.pid)) return 'gone';
  const started = processStart(h.pid);
  const since = Date.parse(h.since);
  if (started !== undefined && Number.isFinite(since) && started > since + 5000) return 'gone';
  return 'running';
}

export function describeState(state: HolderState): string {
  if (state === 'running') return 'still running';
  if (state === 'gone') return 'no longer running';
  return 'on another machine: cannot tell whether it still runs';
}

export function lockPaths(stateDir: string, name: string): { target: string; holder: string } {
  const dir = join(stateDir, 'locks');
  mkdirSync(dir, { recursive: true });
  return { target: join(dir, `${name}.lock`), holder: join(dir, `${name}.holder.json`) };
}

export function readHolder(stateDir: string, name: string): LockHolder | undefined {
  const { holder } = lockPaths(stateDir, name);
  if (!existsSync(holder)) return undefined;
  try {
    return JSON.parse(readFileSync(holder, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

function describe(h: LockHolder): string {
  return `${h.user}@${h.host} pid ${h.pid} since ${h.since} (${h.command})`;
}

/**
 * One run per inventory at a time. A lock whose holder died is reported as stale and left alone:
 * `orch lock release NAME` removes it after a person has looked.
 */
export async function acquireRunLock(stateDir: string, name: string, command: string): Promise<() => Promise<void>> {
  const { target, holder } = lockPaths(stateDir, name);
  if (!existsSync(target)) writeFileSync(target, '');
  const current = readHolder(stateDir, name);
  const lockDir = `${target}.lock`;
  if (existsSync(lockDir) && current) {
    if (holderState(current) === 'gone') {
      throw new LockError(`inventory '${name}' has a stale lock: ${describe(current)} is no longer running`, {
        hint: `That run was killed. Check the hosts, then remove the lock with: orch lock release ${name}`,
      });
    }
    throw new LockError(`inventory '${name}' is locked by another run: ${describe(current)}`, { hint: 'Wait for it to finish, or ask its owner.' });
  }
  let release: () => Promise<void>;
  // loaded here, not at startup: it installs signal handlers (signal-exit), and a JS handler cannot run
  // while a large file is being parsed, so SIGTERM would wait for the load (see cli/commands/apply.ts)
  const { default: lockfile } = await import('proper-lockfile');
  try {
    release = await lockfile.lock(target, { stale: 24 * 3600 * 1000, update: 60_000, realpath: false, retries: 0 });
  } catch (err) {
    const h = readHolder(stateDir, name);
    throw new LockError(`inventory '${name}' is locked by another run${h ? `: ${describe(h)}` : ''}`, { cause: err });
  }
  const me: LockHolder = { user: userInfo().username, host: hostname(), pid: process.pid, since: new Date().toISOString(), command };
  writeFileSync(holder, `${JSON.stringify(me)}\n`);
  return async () => {
    rmSync(holder, { force: true });
    await release().catch(() => undefined);
  };
}

/**
 * `orch lock release`: remove a lock whose holder is gone. A holder still running on this machine is
 * never released (even with `force`: stop that run instead); one on another machine needs `force`,
 * given after a person has checked there.
 */
export function releaseLock(stateDir: string, name: string, force: boolean): LockHolder | undefined {
  const { target, holder } = lockPaths(stateDir, name);
  const h = readHolder(stateDir, name);
  if (h) {
    const state = holderState(h);
    if (state === 'running') {
      throw new LockError(`not releasing the lock of '${name}': it is held by a run that is still running: ${describe(h)}`, {
        hint: `Wait for it, or stop it (kill ${h.pid} on ${h.host}); --force does not release a live run's lock.`,
      });
    }
    if (state === 'elsewhere' && !force) {
      throw new LockError(`not releasing the lock of '${name}': it is held by a run on another machine (${describe(h)}); orch cannot tell whether it still runs`, {
        hint: `Check on ${h.host} that pid ${h.pid} is gone, then: orch lock release ${name} --force`,
      });
    }
  }
  rmSync(`${target}.lock`, { recursive: true, force: true });
  rmSync(holder, { force: true });
  return h;
}
