import type { RunSummary } from './history.js';

/** The shards of one run (`--shard I/N`), seen as one run. */
export interface MergedRun {
  time: string;
  user: string;
  command: string;
  runId?: string;
  count: number;
  /** shard indexes whose log is here */
  shards: number[];
  result: string;
  /** every host of every shard: how it ended, and in which shard */
  hosts: Record<string, string>;
  /** hosts that more than one shard ran (never, unless the shards' inventories differed) */
  duplicates: string[];
}

/**
 * Groups run logs into runs: the shards of one run share their run id (--run-id, ORCH_RUN_ID), or
 * without one their command and shard count. A log without a shard is a run of its own.
 */
export function mergeShards(runs: RunSummary[]): MergedRun[] {
  const groups = new Map<string, RunSummary[]>();
  for (const r of runs) {
    const key = r.shard ? JSON.stringify([r.runId ?? '', r.runId ? '' : r.command, r.shard.count]) : `single:${r.file}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const first = g[0] as RunSummary;
    const count = first.shard?.count ?? 1;
    const hosts: Record<string, string> = {};
    const duplicates: string[] = [];
    for (const r of g) {
      for (const [h, what] of Object.entries(r.hosts)) {
        if (h in hosts) duplicates.push(h);
        hosts[h] = r.shard ? `${what} (shard ${r.shard.index}/${r.shard.count})` : what;
      }
    }
    const shards = g.map((r) => r.shard?.index ?? 1).sort((a, b) => a - b);
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !shards.includes(i));
    const failed = g.filter((r) => r.exitCode !== 0);
    const parts = [
      failed.length === 0
        ? `ok (${Object.keys(hosts).length} hosts)`
        : failed.map((r) => `${r.shard ? `shard ${r.shard.index}/${count}: ` : ''}${r.result}`).join('; '),
    ];
    if (missing.length > 0) parts.push(`no log of shard ${missing.join(', ')}`);
    return {
      time: g.map((r) => r.time).sort()[0] ?? first.time,
      user: first.user,
      command: first.command,
      runId: first.runId,
      count,
      shards,
      result: parts.join('; '),
      hosts,
      duplicates: [...new Set(duplicates)],
    };
  });
}

export function formatMerged(runs: MergedRun[]): string {
  if (runs.length === 0) return 'no runs recorded there\n';
  const out: string[] = [];
  for (const r of runs) {
    const shards =
      r.count > 1 || r.shards.length > 1
        ? `  ${r.shards.length}/${r.count} shards${r.runId ? `, run ${r.runId}` : ''}`
        : '';
    out.push(`${r.time}  ${r.user.padEnd(8)} ${r.command.padEnd(24)} ${r.result}${shards}`);
    for (const [h, what] of Object.entries(r.hosts).sort(([a], [b]) => a.localeCompare(b)))
      out.push(`    ${h}: ${what}`);
    if (r.duplicates.length > 0) out.push(`    WARNING: run by more than one shard: ${r.duplicates.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}
