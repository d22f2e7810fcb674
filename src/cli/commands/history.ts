import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunEvent } from '../../core/events.js';
import { EXIT } from '../../executor/run.js';
import { STATE_DIR } from './apply.js';

interface RunSummary {
  file: string;
  time: string;
  user: string;
  command: string;
  inventory: string;
  result: string;
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
      const result = end?.type === 'run_end' ? (end.exitCode === 0 ? `ok (${hosts} hosts)` : end.error ? `error: ${end.error}` : `exit ${end.exitCode}`) : 'did not finish';
      return {
        file: f,
        time: start?.type === 'run_start' ? start.time : f.slice(0, 24),
        user: start?.type === 'run_start' ? start.user : '?',
        command: start?.type === 'run_start' ? start.command : f.replace(/^[^-]*-/, ''),
        inventory: start?.type === 'run_start' ? start.inventory : '?',
        result,
      };
    });
}

export async function historyCommand(argv: string[]): Promise<number> {
  const filter = argv[0];
  const runs = readRuns().filter((r) => !filter || r.inventory.endsWith(`/${filter}`) || r.command.includes(filter));
  if (runs.length === 0) process.stdout.write('no runs recorded yet\n');
  for (const r of runs) process.stdout.write(`${r.time}  ${r.user.padEnd(8)} ${r.command.padEnd(24)} ${r.result}\n`);
  return EXIT.ok;
}
