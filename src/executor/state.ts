import type { LimitFunction } from 'p-limit';
import type { Emit, HostStats } from '../core/events.js';
import type { Secrets } from '../core/secrets.js';
import { factVariables, type Facts } from '../facts/gather.js';
import type { Inventory } from '../inventory/model.js';
import type { Shard } from '../inventory/shard.js';
import type { Module } from '../modules/types.js';
import type { Play } from '../playbook/model.js';
import type { ConnectionPool } from './connections.js';
import { PrefetchCache, type QueryCommand } from './prefetch.js';

export interface RunOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  limit?: string;
  /** --shard I/N: only the selected hosts whose name hashes to this shard (inventory/shard.ts) */
  shard?: Shard;
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
  /** `orch plan`: check mode that also runs read-only commands and tracks what earlier tasks would write */
  plan?: boolean;
  /** ansible.cfg error_on_missing_handler = False: notifying a handler that does not exist only warns */
  warnOnMissingHandler?: boolean;
}

/** Where the ansible_facts a module returns go (HostState.keepFacts). */
export function factSourceOf(mod: Module | undefined): FactSource {
  if (mod?.gathersFacts === true) return 'facts';
  return mod?.name === 'include_vars' ? 'include_vars' : 'set_fact';
}

type FactSource = 'facts' | 'set_fact' | 'include_vars';

/** A task's queries as recorded on a host (executor/task-queries.ts), and what they were recorded with. */
export interface RecordedQueries {
  play: object;
  version: string;
  queries: QueryCommand[];
}

/** What the run knows about one host. */
export class HostState {
  private gathered: Facts | undefined;
  /** the facts as variables, made once per change of the facts (every task's scope reads them) */
  private asVariables: Record<string, unknown> | undefined;
  /** set_fact, register: values never templated again */
  readonly runtime: Record<string, unknown> = {};
  /** include_vars: under set_fact and register whatever the order, as Ansible's; templated when used */
  readonly included: Record<string, unknown> = {};
  /** failed for the rest of the play (not rescued) */
  failed = false;
  unreachable = false;
  /** `meta: end_host` */
  ended = false;
  /** failed in a block and now running its `always`: failed again after it, unless `meta: clear_host_errors` */
  failedBeforeAlways = false;
  /** failures and unreachables counted before a `meta: clear_host_errors`: in the recap, not in the exit code */
  failuresCleared = 0;
  unreachableCleared = 0;
  /** handler names and listen topics notified and not yet run */
  readonly notified = new Set<string>();
  /** read-only query results fetched ahead in one batch (executor/prefetch.ts) */
  readonly prefetch = new PrefetchCache();
  /**
   * Counts the changes of this host's variables (setVars, keepFacts, facts): a query recorded
   * for a task (task-queries.ts) is recorded again once it moved. A change it misses costs no correctness:
   * a query is answered from what was fetched only for the very command the task runs.
   */
  varsVersion = 0;
  /** the queries recorded for tasks not run yet, with the play and the versions they were recorded at */
  readonly recorded = new Map<number, RecordedQueries>();

  /** facts set by a module under a name without the ansible_ prefix (package_facts: `packages`) */
  readonly plainFactNames = new Set<string>();

  /** plan: paths earlier tasks would change, with the task that would (executor/plan.ts) */
  readonly planWrites = new Map<string, string>();
  /** plan: handlers (names, listen topics) notified only by tasks whose outcome is unknown, with why */
  readonly planMaybeNotified = new Map<string, string>();
  /** plan: a meta end_host/end_batch/end_play whose condition is unknown: later changes only may happen */
  planMayEnd: { play: Play; why: string } | undefined;
  /** plan: the first task that would install or change packages on this host */
  planPackages: string | undefined;

  constructor(
    readonly name: string,
    readonly stats: HostStats,
  ) {}

  /**
   * Keep what a module returned in ansible_facts. Fact modules (setup, package_facts, getent...) add host
   * facts: `ansible_x` is `ansible_facts.x`, a name without the prefix keeps it (`packages`) as Ansible injects
   * it; set_fact and include_vars set variables.
   */
  keepFacts(values: Record<string, unknown>, source: FactSource): void {
    this.varsVersion++;
    if (source !== 'facts') {
      Object.assign(source === 'include_vars' ? this.included : this.runtime, values);
      return;
    }
    this.facts ??= {};
    this.asVariables = undefined;
    for (const [k, v] of Object.entries(values)) {
      if (k.startsWith('ansible_') && k !== 'ansible_local') this.facts[k.slice(8)] = v;
      else {
        this.facts[k] = v;
        this.plainFactNames.add(k);
      }
    }
  }

  /** register values and the like (undefined: the variable goes); `runtime` is written here and in keepFacts */
  setVars(values: Record<string, unknown>): void {
    this.varsVersion++;
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete this.runtime[k];
      else this.runtime[k] = v;
    }
  }

  get facts(): Facts | undefined {
    return this.gathered;
  }

  set facts(facts: Facts | undefined) {
    this.varsVersion++;
    this.gathered = facts;
    this.asVariables = undefined;
  }

  /** `ansible_facts` and the `ansible_*` names (facts/gather.ts factVariables), undefined without facts */
  factVars(): Record<string, unknown> | undefined {
    if (!this.gathered) return undefined;
    return (this.asVariables ??= factVariables(this.gathered, this.plainFactNames));
  }

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
  /** null for a host list (`-i a,b,`), as Ansible's None */
  inventoryDir: string | null;
  /** the inventory's path as given (inventory_file, ansible_inventory_sources) */
  inventoryFile?: string;
  /** set by SIGINT/SIGTERM: no new task starts; what runs is finished */
  stopping: { signal?: string };
  /** what must never be printed (the CLI's registry for this invocation), and the vault password */
  secrets: Secrets;
}
