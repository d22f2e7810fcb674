import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
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
    const sameHost = current.host === hostname();
    if (sameHost && !pidAlive(current.pid)) {
      throw new LockError(`inventory '${name}' has a stale lock: ${describe(current)} is no longer running`, {
        hint: `That run was killed. Check the hosts, then remove the lock with: orch lock release ${name}`,
      });
    }
    throw new LockError(`inventory '${name}' is locked by another run: ${describe(current)}`, { hint: 'Wait for it to finish, or ask its owner.' });
  }
  let release: () => Promise<void>;
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

/** `orch lock release`: remove a lock after its holder is gone. */
export function forceReleaseLock(stateDir: string, name: string): LockHolder | undefined {
  const { target, holder } = lockPaths(stateDir, name);
  const h = readHolder(stateDir, name);
  rmSync(`${target}.lock`, { recursive: true, force: true });
  rmSync(holder, { force: true });
  return h;
}
