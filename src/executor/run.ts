import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import pLimit from 'p-limit';
import { emptyStats, type Emit, type HostStats } from '../core/events.js';
import { inventoryName, loadInventory } from '../inventory/load.js';
import { loadPlaybook } from '../playbook/load.js';
import { ConnectionPool } from './connections.js';
import { acquireRunLock } from './lock.js';
import { runPlay } from './play.js';
import { HostState, type RunOptions, type RunState } from './state.js';

/** Exit codes (documented in the README). */
export const EXIT = { ok: 0, error: 1, hostFailed: 2, hostUnreachable: 3, badInput: 4, usage: 5, locked: 6, sigint: 130, sigterm: 143 } as const;

export interface RunRequest {
  command: string;
  inventoryPath: string;
  playbookPath: string;
  opts: RunOptions;
  emit: Emit;
  stateDir: string;
  /** set when the process receives SIGINT/SIGTERM */
  stopping: { signal?: string };
}

export function exitCodeFor(stats: Record<string, HostStats>, stopping: { signal?: string }): number {
  if (stopping.signal === 'SIGINT') return EXIT.sigint;
  if (stopping.signal === 'SIGTERM') return EXIT.sigterm;
  const all = Object.values(stats);
  if (all.some((s) => s.failed > 0)) return EXIT.hostFailed;
  if (all.some((s) => s.unreachable > 0)) return EXIT.hostUnreachable;
  return EXIT.ok;
}

/** Load everything (errors before any connection), lock the inventory, run the plays, recap. */
export async function runPlaybook(req: RunRequest): Promise<number> {
  const started = Date.now();
  const inv = loadInventory(req.inventoryPath);
  const playbook = loadPlaybook(req.playbookPath);
  const release = await acquireRunLock(req.stateDir, inventoryName(req.inventoryPath), req.command);
  const pool = new ConnectionPool({ acceptNewHostKeys: req.opts.acceptNewHostKeys, connectTimeoutMs: req.opts.connectTimeoutMs });
  const hosts = new Map<string, HostState>();
  for (const h of inv.order) hosts.set(h, new HostState(h, emptyStats()));
  const rs: RunState = { inv, opts: req.opts, emit: req.emit, pool, hosts, limit: pLimit(req.opts.forks), playbookDir: playbook.dir, inventoryDir: dirname(req.inventoryPath), stopping: req.stopping };
  req.emit({ type: 'run_start', time: new Date().toISOString(), command: req.command, inventory: req.inventoryPath, playbook: playbook.file, hosts: inv.order, check: req.opts.check, user: userInfo().username });
  try {
    for (const play of playbook.plays) {
      if (req.stopping.signal) break;
      await runPlay(rs, play);
    }
  } finally {
    const stats: Record<string, HostStats> = {};
    for (const [h, s] of hosts) {
      const touched = Object.values(s.stats).some((n) => n > 0);
      if (touched) stats[h] = s.stats;
    }
    req.emit({ type: 'recap', stats, durationMs: Date.now() - started, roundTrips: await pool.roundTrips() });
    await pool.closeAll();
    await release();
  }
  const stats = Object.fromEntries([...hosts].map(([h, s]) => [h, s.stats]));
  return exitCodeFor(stats, req.stopping);
}
