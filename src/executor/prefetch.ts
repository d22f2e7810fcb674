import type { BecomeSettings, ExecOptions, ExecResult } from '../transport/types.js';
import { wrapCommand } from '../transport/wrap.js';

/**
 * Batched queries. Before a run of consecutive tasks on a host, the executor learns the first read-only
 * command each task will run (Module.query with a recording context), runs them all in one script (one
 * round trip) and keeps the results here. When a task then runs that exact command with the same
 * options, it gets the kept result without a round trip. A converged run thus costs a constant number of
 * round trips per host. The results are only good while nothing changed the host: the first command that
 * is not served from here (an apply step, a shell task...) throws all of them away.
 */

export interface QueryCommand {
  command: string;
  opts: ExecOptions;
}

function keyOf(command: string, opts: ExecOptions): string | undefined {
  if (opts.stdin !== undefined && opts.stdin.length > 0) return undefined;
  return JSON.stringify([opts.become?.user ?? '', opts.env ?? {}, opts.cwd ?? '', opts.timeoutMs ?? 0, command]);
}

export class PrefetchCache {
  private readonly results = new Map<string, ExecResult[]>();
  /**
   * Off after results were thrown away unused (the host is changing: fetching ahead would only cost
   * work on the host, as in a first run); on again once a task finds the host already as wanted.
   */
  enabled = true;
  /** tasks whose query was looked at since the last invalidation (so no task is prefetched twice) */
  private readonly covered = new Set<number>();
  hits = 0;

  covers(taskId: number): boolean {
    return this.covered.has(taskId);
  }

  cover(taskIds: number[]): void {
    for (const id of taskIds) this.covered.add(id);
  }

  store(q: QueryCommand, r: ExecResult): void {
    const k = keyOf(q.command, q.opts);
    if (k === undefined) return;
    const list = this.results.get(k) ?? [];
    list.push(r);
    this.results.set(k, list);
  }

  /** The kept result for this command, used once; undefined (and nothing kept any more) otherwise. */
  take(command: string, opts: ExecOptions): ExecResult | undefined {
    const k = keyOf(command, opts);
    const r = k === undefined ? undefined : this.results.get(k)?.shift();
    if (r) this.hits++;
    return r;
  }

  /** Something ran that may have changed the host: nothing kept is trustworthy any more. */
  invalidate(): void {
    if ([...this.results.values()].some((l) => l.length > 0)) this.enabled = false;
    this.results.clear();
    this.covered.clear();
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
    out.set(Number(m[1]), { rc: Number(m[2]), stdout: Buffer.from(m[3] ?? '', 'base64').toString('utf8'), stderr: Buffer.from(m[4] ?? '', 'base64').toString('utf8') });
  }
  return out;
}

/** Queries grouped by who runs them (a batch runs as one sudo user). */
export function groupByBecome(queries: QueryCommand[]): { become: BecomeSettings | undefined; queries: QueryCommand[] }[] {
  const groups = new Map<string, { become: BecomeSettings | undefined; queries: QueryCommand[] }>();
  for (const q of queries) {
    const k = q.opts.become ? `${q.opts.become.method ?? 'sudo'}\0${q.opts.become.user}\0${q.opts.become.password ?? ''}` : '';
    const g = groups.get(k) ?? { become: q.opts.become, queries: [] };
    g.queries.push(q);
    groups.set(k, g);
  }
  return [...groups.values()];
}
