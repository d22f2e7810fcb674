import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { LockError } from '../core/errors.js';
import { shardLabel, type Shard } from '../inventory/shard.js';

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

/** The lock of an inventory, or of one shard of it (`of.shard-3-of-8`). */
export function lockName(name: string, shard?: Shard): string {
  return shard ? `${name}.${shardLabel(shard)}` : name;
}

/**
 * Locks that cover hosts this run would take: a whole-inventory run overlaps every shard of it; a shard
 * overlaps the whole inventory and shards of another count (3/8 and 1/4 may share hosts), not its siblings.
 */
function overlapping(stateDir: string, name: string, shard: Shard | undefined): string[] {
  const dir = join(stateDir, 'locks');
  const prefix = `${name}.shard-`;
  const shards = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.startsWith(prefix) && f.endsWith('.holder.json'))
        .map((f) => f.slice(0, -'.holder.json'.length))
        .filter((l) => /^shard-\d+-of-\d+$/.test(l.slice(name.length + 1)))
    : [];
  if (!shard) return shards;
  return [name, ...shards.filter((l) => !l.endsWith(`-of-${shard.count}`))];
}

/** Refuse when `lock` is held (a live run, or a stale lock a person must release). */
function refuseIfHeld(stateDir: string, lock: string, what: string): void {
  const current = readHolder(stateDir, lock);
  if (!existsSync(`${lockPaths(stateDir, lock).target}.lock`) || !current) return;
  if (holderState(current) === 'gone') {
    throw new LockError(`${what} has a stale lock: ${describe(current)} is no longer running`, {
      hint: `That run was killed. Check the hosts, then remove the lock with: orch lock release ${lockCommandArgs(lock)}`,
    });
  }
  throw new LockError(`${what} is locked by another run: ${describe(current)}`, {
    hint: 'Wait for it to finish, or ask its owner.',
  });
}

/** `of.shard-3-of-8` → `of --shard 3/8` (what `orch lock release` takes). */
function lockCommandArgs(lock: string): string {
  const m = /^(.*)\.shard-(\d+)-of-(\d+)$/.exec(lock);
  return m ? `${m[1]} --shard ${m[2]}/${m[3]}` : lock;
}

function lockTitle(lock: string): string {
  const m = /^(.*)\.shard-(\d+)-of-(\d+)$/.exec(lock);
  return m ? `inventory '${m[1]}' (shard ${m[2]}/${m[3]})` : `inventory '${lock}'`;
}

/**
 * One run per inventory at a time, or with --shard one per inventory and shard (the shards of one run
 * go side by side; a run of the whole inventory, or a shard of another count, waits for them). A lock
 * whose holder died is reported as stale and left alone: `orch lock release NAME` removes it after a
 * person has looked.
 */
export async function acquireRunLock(
  stateDir: string,
  name: string,
  command: string,
  shard?: Shard,
): Promise<() => Promise<void>> {
  const own = lockName(name, shard);
  const { target, holder } = lockPaths(stateDir, own);
  if (!existsSync(target)) writeFileSync(target, '');
  for (const other of [own, ...overlapping(stateDir, name, shard)]) refuseIfHeld(stateDir, other, lockTitle(other));
  let release: () => Promise<void>;
  // loaded here, not at startup: it installs signal handlers (signal-exit), and a JS handler cannot run
  // while a large file is being parsed, so SIGTERM would wait for the load (see cli/commands/apply.ts)
  const { default: lockfile } = await import('proper-lockfile');
  try {
    release = await lockfile.lock(target, { stale: 24 * 3600 * 1000, update: 60_000, realpath: false, retries: 0 });
  } catch (err) {
    const h = readHolder(stateDir, own);
    throw new LockError(`${lockTitle(own)} is locked by another run${h ? `: ${describe(h)}` : ''}`, { cause: err });
  }
  const me: LockHolder = {
    user: userInfo().username,
    host: hostname(),
    pid: process.pid,
    since: new Date().toISOString(),
    command,
  };
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
      throw new LockError(
        `not releasing the lock of '${name}': it is held by a run that is still running: ${describe(h)}`,
        {
          hint: `Wait for it, or stop it (kill ${h.pid} on ${h.host}); --force does not release a live run's lock.`,
        },
      );
    }
    if (state === 'elsewhere' && !force) {
      throw new LockError(
        `not releasing the lock of '${name}': it is held by a run on another machine (${describe(h)}); orch cannot tell whether it still runs`,
        {
          hint: `Check on ${h.host} that pid ${h.pid} is gone, then: orch lock release ${name} --force`,
        },
      );
    }
  }
  rmSync(`${target}.lock`, { recursive: true, force: true });
  rmSync(holder, { force: true });
  return h;
}
