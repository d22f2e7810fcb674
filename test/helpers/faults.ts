import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './lab.js';

/**
 * The fault and bad-input catalogue: each case is a test that returns what it observed. Every case
 * appends a row (case, expected, observed) to .orch/reports/faults.ndjson; test/run.mjs turns the rows
 * into the table .orch/reports/faults.md after the run.
 */
export const FAULTS_FILE = join(ROOT, '.orch', 'reports', 'faults.ndjson');

function record(row: { case: string; expected: string; observed: string; pass: boolean }): void {
  mkdirSync(join(ROOT, '.orch', 'reports'), { recursive: true });
  appendFileSync(FAULTS_FILE, `${JSON.stringify(row)}\n`);
}

export function fault(name: string, expected: string, fn: () => string | Promise<string>): void {
  test(`fault: ${name}`, async () => {
    try {
      const observed = await fn();
      record({
        case: name,
        expected,
        observed: observed
          .replace(/\/tmp\/orch-[\w-]+\//g, '')
          .replace(/\s+/g, ' ')
          .trim(),
        pass: true,
      });
    } catch (err) {
      record({
        case: name,
        expected,
        observed: `NOT AS EXPECTED: ${(err as Error).message.split('\n')[0]}`,
        pass: false,
      });
      throw err;
    }
  });
}

/** The first ERROR line and its hint, as the user sees them. */
export function errorLines(stderr: string): string {
  const lines = stderr.split('\n');
  const i = lines.findIndex((l) => l.startsWith('ERROR'));
  if (i < 0) return stderr.trim().split('\n')[0] ?? '';
  return [lines[i], lines[i + 1]?.startsWith('  hint:') ? lines[i + 1] : ''].filter(Boolean).join(' ');
}
