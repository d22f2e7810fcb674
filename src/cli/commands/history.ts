import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HostStats, RunEvent } from '../../core/events.js';
import { EXIT } from '../../executor/run.js';
import { STATE_DIR } from './apply.js';
import { formatMerged, mergeShards } from './history-merge.js';
import { UsageError } from '../../core/errors.js';

export interface RunSummary {
  file: string;
  time: string;
  user: string;
  command: string;
  inventory: string;
  result: string;
  /** per host: how the run ended there, and the release it runs (deploy, rollback, restart) */
  hosts: Record<string, string>;
  exitCode?: number;
  shard?: { index: number; count: number };
  runId?: string;
}

function hostOutcome(s: HostStats): string {
  return s.unreachable > 0 ? 'unreachable' : s.failed > 0 ? 'failed' : s.changed > 0 ? 'changed' : 'ok';
}

function perHost(events: RunEvent[]): Record<string, string> {
  const out: Record<string, string> = {};
  const recap = events.find((e) => e.type === 'recap');
  const releases = events.find((e) => e.type === 'releases');
  if (recap?.type === 'recap') for (const [h, s] of Object.entries(recap.stats)) out[h] = hostOutcome(s);
  if (releases?.type === 'releases')
    for (const [h, r] of Object.entries(releases.releases)) out[h] = `${out[h] ?? 'not run'}, release ${r}`;
  return out;
}

export function readRuns(dir = resolve(STATE_DIR, 'runs')): RunSummary[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ndjson'))
    .sort()
    .map((f) => {
      const events = readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as RunEvent);
      const start = events.find((e) => e.type === 'run_start');
      const end = events.find((e) => e.type === 'run_end');
      const recap = events.find((e) => e.type === 'recap');
      const hosts = recap?.type === 'recap' ? Object.keys(recap.stats).length : 0;
      const result =
        end?.type === 'run_end'
          ? end.exitCode === 0
            ? `ok (${hosts} hosts)`
            : end.error
              ? `error: ${end.error}`
              : `exit ${end.exitCode}`
          : 'did not finish';
      return {
        file: f,
        // a run refused before it started (a lock) has no run_start: its file is <time>-<command>.ndjson
        time:
          start?.type === 'run_start'
            ? start.time
            : f.slice(0, 24).replace(/^(\d{4}-\d\d-\d\dT\d\d)-(\d\d)-(\d\d)-(\d{3})Z$/, '$1:$2:$3.$4Z'),
        user: start?.type === 'run_start' ? start.user : '?',
        command: start?.type === 'run_start' ? start.command : f.slice(25).replace(/\.ndjson$/, ''),
        inventory: start?.type === 'run_start' ? start.inventory : '?',
        result,
        hosts: perHost(events),
        exitCode: end?.type === 'run_end' ? end.exitCode : undefined,
        shard: start?.type === 'run_start' ? start.shard : undefined,
        runId: start?.type === 'run_start' ? start.runId : undefined,
      };
    });
}

export async function historyCommand(argv: string[]): Promise<number> {
  if (argv[0] === '--merge') {
    if (!argv[1]) throw new UsageError('usage: orch history --merge DIR (the run logs of the shards of one run)');
    process.stdout.write(formatMerged(mergeShards(readRuns(resolve(argv[1])))));
    return EXIT.ok;
  }
  const filter = argv[0];
  const runs = readRuns().filter((r) => !filter || r.inventory.endsWith(`/${filter}`) || r.command.includes(filter));
  if (runs.length === 0) process.stdout.write('no runs recorded yet\n');
  const rolling = /^(deploy|rollback|restart) /;
  for (const r of runs) {
    process.stdout.write(`${r.time}  ${r.user.padEnd(8)} ${r.command.padEnd(24)} ${r.result}\n`);
    if (rolling.test(r.command))
      for (const [h, what] of Object.entries(r.hosts)) process.stdout.write(`    ${h}: ${what}\n`);
  }
  return EXIT.ok;
}
