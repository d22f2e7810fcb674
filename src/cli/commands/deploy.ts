import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { UsageError } from '../../core/errors.js';
import { EXIT } from '../../executor/run.js';
import { RUN_FLAGS, runWithReporting, STATE_DIR } from './apply.js';

const DEPLOY_FLAGS = {
  ...RUN_FLAGS,
  ref: { type: 'string', default: 'HEAD' },
  repo: { type: 'string', default: '.' },
  path: { type: 'string', default: 'roles/app/files/demo' },
  serial: { type: 'string', default: '1' },
  keep: { type: 'string', default: '5' },
  to: { type: 'string' },
} as const;

/** Resolve REF in the app's git repository and build one artifact (git archive) named by time and commit. */
export async function buildArtifact(repo: string, ref: string, path: string): Promise<{ sha: string; release: string; artifact: string }> {
  $.quiet = true;
  const shaOut = await $`git -C ${repo} rev-parse --verify ${`${ref}^{commit}`}`.nothrow();
  if (shaOut.exitCode !== 0) throw new UsageError(`cannot resolve '${ref}' in ${resolve(repo)}: ${shaOut.stderr.trim()}`, { hint: 'Give a branch, tag or commit that exists (--ref), and the app repository (--repo).' });
  const sha = shaOut.stdout.trim();
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '');
  const release = `${stamp}-${sha.slice(0, 7)}`;
  const dir = resolve(STATE_DIR, 'artifacts');
  mkdirSync(dir, { recursive: true });
  const artifact = join(dir, `${release}.tar.gz`);
  const tree = path && path !== '.' ? `${sha}:${path}` : sha;
  const arch = await $`git -C ${repo} archive --format=tar.gz -o ${artifact} ${tree}`.nothrow();
  if (arch.exitCode !== 0) throw new UsageError(`git archive of ${tree} failed: ${arch.stderr.trim()}`, { hint: '--path names the app directory inside the repository.' });
  return { sha, release, artifact };
}

function parse(argv: string[], usage: string) {
  const { values, positionals } = parseArgs({ args: argv, options: DEPLOY_FLAGS, allowPositionals: true });
  const inventory = positionals[0];
  if (!inventory || values.help) {
    process.stdout.write(usage);
    return undefined;
  }
  for (const k of ['serial', 'keep'] as const) {
    if (!/^\d+%?$/.test(values[k])) throw new UsageError(`--${k} must be a number, not '${values[k]}'`);
  }
  return { values, inventory };
}

export async function deployCommand(argv: string[]): Promise<number> {
  const p = parse(argv, 'usage: orch deploy INVENTORY [--ref REF] [--repo DIR] [--path APPDIR] [--serial N] [--keep N] [run options]\n');
  if (!p) return EXIT.usage;
  const { sha, release, artifact } = await buildArtifact(p.values.repo, p.values.ref, p.values.path);
  return runWithReporting({
    command: `deploy ${p.inventory}`,
    inventory: p.inventory,
    playbook: resolve('playbooks', 'deploy.yml'),
    values: p.values,
    extraVars: { deploy_release: release, deploy_sha: sha, deploy_artifact: artifact, deploy_serial: p.values.serial, deploy_keep: Number(p.values.keep) },
  });
}

export async function rollbackCommand(argv: string[]): Promise<number> {
  const p = parse(argv, 'usage: orch rollback INVENTORY [--to RELEASE] [--serial N] [run options]\n');
  if (!p) return EXIT.usage;
  return runWithReporting({
    command: `rollback ${p.inventory}`,
    inventory: p.inventory,
    playbook: resolve('playbooks', 'rollback.yml'),
    values: p.values,
    extraVars: { deploy_serial: p.values.serial, ...(p.values.to ? { rollback_to: p.values.to } : {}) },
  });
}
