// Runs the whole suite: unit tests, then lab-backed tests on a dedicated test lab (torn down afterwards).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);

function find(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'bench' || f === 'fixtures' ? [] : find(p);
    return p.endsWith('.test.ts') || p.endsWith('.test.tsx') ? [p] : [];
  });
}

const files = find(join(root, 'test'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

// The test lab's names; set them to run a second suite beside this one (each needs its own lab).
const prefix = process.env.ORCH_LAB_PREFIX ?? 'orcht';
const env = {
  ...process.env,
  ORCH_LAB_PREFIX: prefix,
  ORCH_LAB_SUBNET: process.env.ORCH_LAB_SUBNET ?? '10.214.0',
  ORCH_LAB_DIR: process.env.ORCH_LAB_DIR ?? `/var/lib/orch-${prefix}-lab`,
  ORCH_LAB_INVENTORY: process.env.ORCH_LAB_INVENTORY ?? join(root, '.orch', `${prefix}-lab`, 'inventory'),
  ORCH_TEST_LAB_SIZE: process.env.ORCH_TEST_LAB_SIZE ?? '4',
};
const orch = join(root, 'bin', 'orch');
// test/production/ runs on `orch lab up --profile production` (a lab of its own, after the others), as
// does everything under ORCH_TEST_PROFILE=production (`npm run test:production`).
const prodPrefix = process.env.ORCH_TEST_PROFILE === 'production' ? prefix : `${prefix}p`;
const prodEnv = {
  ...env,
  ORCH_TEST_PROFILE: 'production',
  ORCH_LAB_INIT: 'systemd',
  ORCH_LAB_PREFIX: prodPrefix,
  ORCH_LAB_SUBNET:
    process.env.ORCH_TEST_PRODUCTION_SUBNET ??
    (process.env.ORCH_TEST_PROFILE === 'production' ? env.ORCH_LAB_SUBNET : '10.215.0'),
  ORCH_LAB_INNER_SUBNET:
    process.env.ORCH_TEST_PRODUCTION_INNER_SUBNET ?? process.env.ORCH_LAB_INNER_SUBNET ?? '10.215.4',
  ORCH_LAB_DIR: `/var/lib/orch-${prodPrefix}-lab`,
};
const isProduction = (f) => process.env.ORCH_TEST_PROFILE === 'production' || f.includes('/test/production/');
const phases = [
  { env, files: files.filter((f) => !isProduction(f)), up: [env.ORCH_TEST_LAB_SIZE] },
  { env: prodEnv, files: files.filter(isProduction), up: ['--profile', 'production'] },
].filter((p) => p.files.length > 0);

// The fault catalogue (test/helpers/faults.ts) writes one row per case; rendered as a table at the end.
const faultRows = join(root, '.orch', 'reports', 'faults.ndjson');
rmSync(faultRows, { force: true });
let status = 0;
for (const phase of phases) {
  const needsLab = phase.files.some((f) => !f.includes('/unit/'));
  if (needsLab) {
    // Start from fresh hosts: a lab kept from an earlier run (ORCH_KEEP_LAB) carries its changes.
    if (!process.env.ORCH_KEEP_LAB) spawnSync(orch, ['lab', 'down'], { env: phase.env, stdio: 'inherit' });
    const up = spawnSync(orch, ['lab', 'up', ...phase.up], { env: phase.env, stdio: 'inherit' });
    if (up.status !== 0) {
      console.error('could not bring the test lab up');
      process.exit(1);
    }
  }
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...phase.files],
    { env: phase.env, stdio: 'inherit', cwd: root },
  );
  if (needsLab && !process.env.ORCH_KEEP_LAB) spawnSync(orch, ['lab', 'down'], { env: phase.env, stdio: 'inherit' });
  status ||= res.status ?? 1;
}
if (existsSync(faultRows)) {
  const rows = readFileSync(faultRows, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const cell = (s) => String(s).replace(/\|/g, '\\|');
  const table = [
    '| # | case | expected | observed | |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r, i) =>
        `| ${i + 1} | ${cell(r.case)} | ${cell(r.expected)} | ${cell(r.observed)} | ${r.pass ? 'pass' : 'FAIL'} |`,
    ),
  ].join('\n');
  writeFileSync(join(root, '.orch', 'reports', 'faults.md'), `${table}\n`);
  console.log(
    `\nfault catalogue: ${rows.filter((r) => r.pass).length}/${rows.length} cases as expected; table in .orch/reports/faults.md`,
  );
}
process.exit(status);
