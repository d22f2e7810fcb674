import type { LimitFunction } from 'p-limit';
import type { Emit, HostStats } from '../core/events.js';
import type { Facts } from '../facts/gather.js';
import type { Inventory } from '../inventory/model.js';
import type { ConnectionPool } from './connections.js';
import { PrefetchCache } from './prefetch.js';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  limit?: string;
  tags: string[];
  skipTags: string[];
  extraVars: Record<string, unknown>;
  verbose: number;
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  /** per remote command; undefined = no limit */
  commandTimeoutMs?: number;
  /** become for every play (CLI -b) */
  become?: boolean;
  /** connection defaults from ansible.cfg (remote_user, private_key_file, ...): below every other variable */
  defaultVars?: Record<string, unknown>;
  /** start at this task name (like --start-at-task) */
  startAtTask?: string;
}

/** What the run knows about one host. */
export class HostState {
  facts: Facts | undefined;
  /** set_fact, register, include_vars: values never templated again */
  readonly runtime: Record<string, unknown> = {};
  /** failed for the rest of the play (not rescued) */
  failed = false;
  unreachable = false;
  /** `meta: end_host` */
  ended = false;
  /** handler names and listen topics notified and not yet run */
  readonly notified = new Set<string>();
  /** read-only query results fetched ahead in one batch (executor/prefetch.ts) */
  readonly prefetch = new PrefetchCache();

  constructor(
    readonly name: string,
    readonly stats: HostStats,
  ) {}

  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended;
  }
}

export interface RunState {
  inv: Inventory;
  opts: RunOptions;
  emit: Emit;
  pool: ConnectionPool;
  hosts: Map<string, HostState>;
  limit: LimitFunction;
  playbookDir: string;
  inventoryDir: string;
  /** set by SIGINT/SIGTERM: no new task starts; what runs is finished */
  stopping: { signal?: string };
}
