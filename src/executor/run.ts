import { takeLoadWarnings } from '../core/load-warnings.js';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import pLimit from 'p-limit';
import { emptyStats, type Emit, type HostStats } from '../core/events.js';
import { PlayStoppedError } from '../core/errors.js';
import { inventoryBase, inventoryName, loadAdjacentVars, loadInventory } from '../inventory/load.js';
import type { Secrets } from '../core/secrets.js';
import { loadPlaybook } from '../playbook/load.js';
import { refuseUndefinedNames } from '../playbook/undefined-names.js';
import { selectHosts } from '../inventory/pattern.js';
import { isHostList } from '../inventory/host-list.js';
import { inShard } from '../inventory/shard.js';
import { ConnectionPool } from './connections.js';
import { acquireRunLock } from './lock.js';
import { runPlay } from './play.js';
import { HostState, type RunOptions, type RunState } from './state.js';

/** Exit codes (documented in the README). */
export const EXIT = {
  ok: 0,
  error: 1,
  hostFailed: 2,
  hostUnreachable: 3,
  badInput: 4,
  usage: 5,
  locked: 6,
  sighup: 129,
  sigint: 130,
  sigterm: 143,
} as const;

export interface RunRequest {
  command: string;
  inventoryPath: string;
  playbookPath: string;
  /** where roles are looked for after the playbook's own roles/ (ansible.cfg roles_path) */
  rolePaths?: string[];
  opts: RunOptions;
  emit: Emit;
  /** the invocation's secrets (and vault password): what loading and the run learn is registered there */
  secrets: Secrets;
  stateDir: string;
  /** set when the process receives SIGINT, SIGTERM or SIGHUP */
  stopping: { signal?: string };
  /** what a command adds around the plays (deploy: the lock on the hosts, the release report) */
  hooks?: RunHooks;
  /** names the run the shards of one sharded run share (--run-id, ORCH_RUN_ID): `orch history --merge` groups by it */
  runId?: string;
  /** called once everything is loaded, before the lock and the first connection (signal handlers go in here) */
  onLoaded?: () => void;
}

/** Steps a command adds to a run (src/deploy/hooks.ts); the executor knows nothing of what they do. */
export interface RunHooks {
  /** once everything is loaded, before the run lock (a bad pattern is an error before anything starts) */
  prepare?(rs: RunState): void;
  /** after the run lock, before the first play (may refuse the run) */
  start?(rs: RunState): Promise<void>;
  /** whatever or however the run ended, before the recap */
  finish?(rs: RunState): Promise<void>;
}

/** The run's exit code from its hosts (what a later `meta: clear_host_errors` cleared does not count). */
export function exitCodeFor(hosts: Iterable<HostState>, stopping: { signal?: string }): number {
  if (stopping.signal === 'SIGINT') return EXIT.sigint;
  if (stopping.signal === 'SIGTERM') return EXIT.sigterm;
  if (stopping.signal === 'SIGHUP') return EXIT.sighup;
  const all = [...hosts];
  if (all.some((hs) => hs.stats.failed > hs.failuresCleared)) return EXIT.hostFailed;
  if (all.some((hs) => hs.stats.unreachable > hs.unreachableCleared)) return EXIT.hostUnreachable;
  return EXIT.ok;
}

/** Hosts, connections and options for one run (also used by commands that only talk to hosts). */
export function newRunState(
  inventoryPath: string,
  opts: RunOptions,
  emit: Emit,
  stopping: { signal?: string },
  playbookDir: string,
  secrets: Secrets,
): RunState {
  const inv = loadInventory(inventoryPath, secrets);
  secrets.registerPasswordVars(opts.extraVars);
  const pool = new ConnectionPool({
    acceptNewHostKeys: opts.acceptNewHostKeys,
    connectTimeoutMs: opts.connectTimeoutMs,
  });
  const hosts = new Map<string, HostState>();
  for (const h of inv.order) hosts.set(h, new HostState(h, emptyStats()));
  return {
    inv,
    opts,
    emit,
    pool,
    hosts,
    limit: pLimit(opts.forks),
    playbookDir,
    // a host list has no directory (Ansible: None) and is its own "file"
    inventoryDir: isHostList(inventoryPath) ? null : dirname(inventoryPath),
    inventoryFile: isHostList(inventoryPath) ? inventoryPath : resolve(inventoryPath),
    stopping,
    secrets,
  };
}

/** Variable names the inventory, extra vars and ansible.cfg define (for the undefined-name check). */
export function namesDefinedOutside(rs: RunState): Set<string> {
  const names = new Set([...Object.keys(rs.opts.extraVars), ...Object.keys(rs.opts.defaultVars ?? {})]);
  for (const h of rs.inv.order)
    for (const layer of rs.inv.varLayers(h)) for (const k of Object.keys(layer.vars)) names.add(k);
  return names;
}

/** Hosts matched by a pattern, within --limit. */
export function targetHosts(rs: RunState, pattern: string): string[] {
  const hosts = inShard(selectHosts(rs.inv, pattern), rs.opts.shard);
  if (!rs.opts.limit) return hosts;
  const limited = new Set(selectHosts(rs.inv, rs.opts.limit, '--limit'));
  return hosts.filter((h) => limited.has(h));
}

/** Load everything (errors before any connection), lock the inventory, run the plays, recap. */
export async function runPlaybook(req: RunRequest): Promise<number> {
  const started = Date.now();
  const playbook = loadPlaybook(req.playbookPath, { secrets: req.secrets, rolePaths: req.rolePaths });
  const rs = newRunState(req.inventoryPath, req.opts, req.emit, req.stopping, playbook.dir, req.secrets);
  if (resolve(playbook.dir) !== resolve(inventoryBase(req.inventoryPath)))
    loadAdjacentVars(rs.inv, playbook.dir, req.secrets);
  const { inv, pool, hosts } = rs;
  // a bad pattern is an error before anything starts (localhost is Ansible's implicit one when the inventory lacks it)
  if (req.opts.limit) selectHosts(inv, req.opts.limit, '--limit', undefined, true);
  refuseUndefinedNames(playbook, namesDefinedOutside(rs), req.secrets);
  req.hooks?.prepare?.(rs);
  req.onLoaded?.();
  const release = await acquireRunLock(req.stateDir, inventoryName(req.inventoryPath), req.command, req.opts.shard);
  req.emit({
    type: 'run_start',
    time: new Date().toISOString(),
    command: req.command,
    inventory: req.inventoryPath,
    playbook: playbook.file,
    hosts: inShard(inv.order, req.opts.shard),
    check: req.opts.check,
    user: userInfo().username,
    shard: req.opts.shard,
    runId: req.runId,
  });
  const emitLoadWarnings = () => takeLoadWarnings().forEach((msg) => req.emit({ type: 'warning', msg }));
  emitLoadWarnings();
  let noRecap = false;
  try {
    await req.hooks?.start?.(rs);
    for (const play of playbook.plays) {
      if (req.stopping.signal) break;
      await runPlay(rs, play);
    }
  } catch (err) {
    noRecap = err instanceof PlayStoppedError;
    throw err;
  } finally {
    await req.hooks?.finish?.(rs);
    emitLoadWarnings(); // files loaded during the run (include_vars, dynamic includes)
    const stats: Record<string, HostStats> = {};
    for (const [h, s] of hosts) {
      const touched = Object.values(s.stats).some((n) => n > 0);
      if (touched) stats[h] = s.stats;
    }
    if (!noRecap)
      req.emit({ type: 'recap', stats, durationMs: Date.now() - started, roundTrips: await pool.roundTrips() });
    await pool.closeAll();
    await release();
  }
  return exitCodeFor(hosts.values(), req.stopping);
}
