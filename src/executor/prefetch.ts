import { findModule, resolveModuleName } from '../modules/registry.js';
import type { Item, Task } from '../playbook/model.js';
import type { BecomeSettings, ExecOptions, ExecResult } from '../transport/types.js';
import { wrapCommand } from '../transport/wrap.js';

/**
 * Batched queries. Before a run of consecutive tasks on a host, the executor learns the first read-only
 * command each task will run (Module.query with a recording context), runs them all in one script (one
 * round trip) and keeps the results here: a snapshot of the host. When a task then runs that exact
 * command with the same options, the executor answers it from the snapshot without a round trip (the
 * module cannot tell). A converged run thus costs a constant number of round trips per host.
 *
 * The snapshot must be exactly what the host would answer now, so (as Ansible's linear strategy, which
 * asks each host at the moment the task runs):
 * - a window spans only consecutive tasks that are plain queries of their own host (see windowRole);
 * - any command on a host not answered from its snapshot may change it: that host's snapshot goes at
 *   once, and every host's at the end of the task (a command may reach other hosts: rsync, ssh, an API);
 * - a task that is not a plain query (delegated, run_once, pause, wait_for, meta...) drops every
 *   host's snapshot when it ends, unless it was skipped on every host (then it did nothing anywhere);
 *   its own queries are never fetched ahead, but a window reaches past it (see prefetchWindow).
 */

/**
 * Controller-only modules that neither touch a host nor wait: a snapshot stays true across them.
 * Any other controller module (pause, connection_check, one added later) ends the window.
 */
const INERT = new Set(['debug', 'assert', 'fail', 'set_fact', 'include_vars']);

/**
 * What a task is to a snapshot:
 * - 'query': every command it sends goes to its own host through the executor, which answers it from
 *   the snapshot or, if it is anything else, drops snapshots as above (state modules, stat, command...);
 * - 'inert': runs on the controller and touches no host (set_fact, debug, assert...);
 * - 'break': may change a host orch does not see, or lets time pass: delegate_to / local_action (runs
 *   elsewhere), run_once (runs on one host for all), until (polls for a change), a loop with a pause,
 *   pause, wait_for, meta, uri, any module without a query. Blocks and run-time includes are not tasks:
 *   a window stops at them too (their tasks are judged one by one when they run).
 */
export type WindowRole = 'query' | 'inert' | 'break';

export function windowRole(task: Task): WindowRole {
  const mod = findModule(task.module);
  if (!mod) return 'break';
  if (mod.local) return INERT.has(resolveModuleName(task.module)) && !task.loop_control?.pause ? 'inert' : 'break';
  if (
    !mod.query ||
    task.delegate_to !== undefined ||
    task.run_once ||
    task.until !== undefined ||
    task.loop_control?.pause
  )
    return 'break';
  return 'query';
}

/**
 * The tasks from items[from] on whose queries may be fetched together: consecutive tasks (or `max` of
 * them) up to a block, an include or a meta task other than flush_handlers and noop (a handler that
 * runs settles as any task). Tasks not selected by tags never run: skipped.
 * A 'break' task is in the window (covered, so no window starts at it) but adds no query: where it
 * runs, what was fetched after it is dropped when it ends (settleAfterTask); where it is skipped on
 * every host (a guard that found nothing to do), the snapshot still holds and serves the tasks after it.
 */
export function prefetchWindow(items: Item[], from: number, selected: (t: Task) => boolean, max: number): Task[] {
  const window: Task[] = [];
  for (let j = from; j < items.length && window.length < max; j++) {
    const it = items[j] as Item;
    if (it.kind !== 'task' || (resolveModuleName(it.module) === 'meta' && !keepsSnapshots(it))) break;
    if (!selected(it)) continue;
    window.push(it);
  }
  return window;
}

/** meta: flush_handlers and noop change nothing themselves: the snapshots stay (handlers that run settle as tasks). */
export function keepsSnapshots(meta: Task): boolean {
  return ['flush_handlers', 'noop'].includes(String(meta.args._raw_params));
}

export interface QueryCommand {
  command: string;
  opts: ExecOptions;
}

/**
 * What a query runs with besides its command (a query with input, as psql reads its SELECT on stdin, is kept for
 * that same input only). Joined, not JSON-encoded: a NUL is in no user name, JSON text or path, and the input,
 * which may hold one, comes last.
 */
function optsKey(opts: ExecOptions): string {
  const env = opts.env === undefined ? '' : JSON.stringify(opts.env);
  return `${opts.become?.user ?? ''}\0${env}\0${opts.cwd ?? ''}\0${opts.timeoutMs ?? 0}\0${opts.stdin ?? ''}`;
}

/** How many tasks ahead a host's queries are fetched at most in one batch. */
export const MAX_WINDOW = 40;

/**
 * State modules whose changes are writes orch itself makes on the host the task runs on (files, cron
 * entries, users...): they cannot change another host, so another host's snapshot survives them, and
 * what is fetched behind their last command (see `speculate` in task.ts) describes their own host after it.
 */
const OWN_HOST_WRITES = new Set([
  'file',
  'copy',
  'template',
  'lineinfile',
  'blockinfile',
  'replace',
  'ini_file',
  'sysctl',
  'cron',
  'user',
  'group',
  'authorized_key',
]);

export function writesOwnHostOnly(task: Task): boolean {
  return OWN_HOST_WRITES.has(
    resolveModuleName(task.module).replace(/^ansible\.(builtin|posix)\.|^community\.general\./, ''),
  );
}

/** An answer kept for a query: here, or on its way (fetched behind a command, see task.ts). */
type Kept = ExecResult | Promise<ExecResult | undefined>;

export class PrefetchCache {
  /** by command (the string itself: a probe's is kilobytes, not copied into a key), then by optsKey */
  private readonly results = new Map<string, Map<string, Kept[]>>();
  /** the tasks after the one running now, in its window (set by the play before each task) */
  ahead: Task[] = [];
  /**
   * How far the host's next window reaches. When a snapshot is thrown away with results unused (this
   * host or another is changing), twice what it served: fetching further ahead would only cost work on
   * the host. Back to the maximum once a snapshot was used up.
   */
  size = MAX_WINDOW;
  /** a command not answered from here ran on the host during the current task */
  touched = false;
  /** the same, for the task before it: the host is in a stretch of changes (see `speculate` in task-queries.ts) */
  touchedBefore = false;
  /** per play, the become users (becomeKey) whose batch the host refused (sudo asking a password...) */
  private readonly refusedBatches = new WeakMap<object, Set<string>>();
  /** tasks whose query was looked at since the last drop (so no task is prefetched twice) */
  private readonly covered = new Set<number>();
  /** results kept and served since the last drop */
  private kept = 0;
  private served = 0;

  covers(taskId: number): boolean {
    return this.covered.has(taskId);
  }

  /** This user's batch failed on the host: not sent again in this play (each task asks its own query). */
  refuse(play: object, become: BecomeSettings | undefined): void {
    const keys = this.refusedBatches.get(play) ?? new Set<string>();
    keys.add(becomeKey(become));
    this.refusedBatches.set(play, keys);
  }

  refused(play: object, become: BecomeSettings | undefined): boolean {
    return this.refusedBatches.get(play)?.has(becomeKey(become)) === true;
  }

  /** A new window starts with these tasks. */
  cover(taskIds: number[]): void {
    if (this.kept > 0 && this.unused() === 0) this.size = MAX_WINDOW;
    for (const id of taskIds) this.covered.add(id);
  }

  store(q: QueryCommand, r: Kept): void {
    let byOpts = this.results.get(q.command);
    if (!byOpts) this.results.set(q.command, (byOpts = new Map()));
    const k = optsKey(q.opts);
    const list = byOpts.get(k) ?? [];
    list.push(r);
    byOpts.set(k, list);
    this.kept++;
  }

  private answersFor(command: string, opts: ExecOptions): Kept[] | undefined {
    return this.results.get(command)?.get(optsKey(opts));
  }

  /** The kept answer for this command (or the one on its way), used once; undefined when there is none. */
  takeAny(command: string, opts: ExecOptions): Kept | undefined {
    const r = this.answersFor(command, opts)?.shift();
    if (r) this.served++;
    return r;
  }

  /** The kept answer for this command when it is here already, used once. */
  take(command: string, opts: ExecOptions): ExecResult | undefined {
    const first = this.answersFor(command, opts)?.[0];
    return first === undefined || first instanceof Promise ? undefined : (this.takeAny(command, opts) as ExecResult);
  }

  /** A command not answered from here ran on the host: nothing kept is true any more. */
  sent(): void {
    this.touched = true;
    this.drop();
  }

  /** Throw every kept result away. */
  drop(): void {
    if (this.kept > 0) this.size = this.unused() > 0 ? Math.min(MAX_WINDOW, Math.max(2, 2 * this.served)) : MAX_WINDOW;
    this.results.clear();
    this.covered.clear();
    this.kept = 0;
    this.served = 0;
  }

  private unused(): number {
    let n = 0;
    for (const byOpts of this.results.values()) for (const l of byOpts.values()) n += l.length;
    return n;
  }
}

/**
 * After a task ran on its hosts: when it was not a plain query and ran somewhere (`ran`: not skipped on
 * every host), or sent any host a command that was not answered from a snapshot, no host's snapshot is
 * trusted any more.
 */
export function settleAfterTask(caches: PrefetchCache[], task: Task, ran = true): void {
  // a write of a module that only writes its own host: that host's snapshot went when it was sent
  // (what it holds now was fetched behind the write), the others stay
  const dirty = (ran && windowRole(task) === 'break') || (caches.some((c) => c.touched) && !writesOwnHostOnly(task));
  for (const c of caches) {
    if (dirty) c.drop();
    c.touchedBefore = c.touched;
    c.touched = false;
  }
}

const MARK = 'ORCH-Q';

/** One script running every query in turn, each answer framed on one line (base64: any bytes). */
export function batchScript(queries: QueryCommand[]): string {
  const lines = [
    'd=$(mktemp -d) || exit 1',
    `trap 'rm -rf "$d"' EXIT`,
    `q() { i=$1; shift; "$@" >"$d/o" 2>"$d/e" </dev/null; rc=$?; printf '${MARK} %s %s %s %s\\n' "$i" "$rc" "$(base64 -w0 <"$d/o")" "$(base64 -w0 <"$d/e")"; }`,
  ];
  queries.forEach((q, i) => {
    // the batch already runs as the become user: wrap for cwd/env/timeout only
    const { command } = wrapCommand(q.command, { ...q.opts, become: undefined, stdin: undefined });
    lines.push(`q ${i} ${command}`);
  });
  return lines.join('\n');
}

export function parseBatch(stdout: string): Map<number, ExecResult> {
  const out = new Map<number, ExecResult>();
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^${MARK} (\\d+) (\\d+) (\\S*) (\\S*)$`).exec(line);
    if (!m) continue;
    out.set(Number(m[1]), {
      rc: Number(m[2]),
      stdout: Buffer.from(m[3] ?? '', 'base64').toString('utf8'),
      stderr: Buffer.from(m[4] ?? '', 'base64').toString('utf8'),
    });
  }
  return out;
}

/** Queries grouped by who runs them (a batch runs as one sudo user). */
/** One key per way of becoming a user (method, user, password); '' without become. */
function becomeKey(b: BecomeSettings | undefined): string {
  return b ? `${b.method ?? 'sudo'}\0${b.user}\0${b.password ?? ''}` : '';
}

export function groupByBecome(
  queries: QueryCommand[],
): { become: BecomeSettings | undefined; queries: QueryCommand[] }[] {
  const groups = new Map<string, { become: BecomeSettings | undefined; queries: QueryCommand[] }>();
  for (const q of queries) {
    const k = becomeKey(q.opts.become);
    const g = groups.get(k) ?? { become: q.opts.become, queries: [] };
    g.queries.push(q);
    groups.set(k, g);
  }
  return [...groups.values()];
}
