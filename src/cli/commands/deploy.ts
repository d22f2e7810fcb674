import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { $ } from 'zx';
import { deployHooks } from '../../deploy/hooks.js';
import { UsageError } from '../../core/errors.js';
import type { Secrets } from '../../core/secrets.js';
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
  hosts: { type: 'string', default: 'web' },
  message: { type: 'string', short: 'm', default: '' },
  hard: { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
} as const;

/** Resolve REF in the app's git repository and build one artifact (git archive) named by time and commit. */
export async function buildArtifact(
  repo: string,
  ref: string,
  path: string,
): Promise<{ sha: string; release: string; artifact: string }> {
  $.quiet = true;
  const shaOut = await $`git -C ${repo} rev-parse --verify ${`${ref}^{commit}`}`.nothrow();
  if (shaOut.exitCode !== 0)
    throw new UsageError(`cannot resolve '${ref}' in ${resolve(repo)}: ${shaOut.stderr.trim()}`, {
      hint: 'Give a branch, tag or commit that exists (--ref), and the app repository (--repo).',
    });
  const sha = shaOut.stdout.trim();
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '');
  const release = `${stamp}-${sha.slice(0, 7)}`;
  const dir = resolve(STATE_DIR, 'artifacts');
  mkdirSync(dir, { recursive: true });
  const artifact = join(dir, `${release}.tar.gz`);
  const tree = path && path !== '.' ? `${sha}:${path}` : sha;
  const arch = await $`git -C ${repo} archive --format=tar.gz -o ${artifact} ${tree}`.nothrow();
  if (arch.exitCode !== 0)
    throw new UsageError(`git archive of ${tree} failed: ${arch.stderr.trim()}`, {
      hint: '--path names the app directory inside the repository.',
    });
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
  return { values, inventory, positionals };
}

type Parsed = NonNullable<ReturnType<typeof parse>>;

/** deploy, rollback and restart: same rolling machinery, the remote deploy lock on the hosts they touch. */
function rollingRun(
  p: Parsed,
  secrets: Secrets,
  command: string,
  playbook: string,
  extraVars: Record<string, unknown>,
): Promise<number> {
  return runWithReporting({
    secrets,
    command,
    inventory: p.inventory,
    playbook: resolve('playbooks', playbook),
    values: p.values,
    extraVars: { deploy_hosts: p.values.hosts, deploy_serial: p.values.serial, ...extraVars },
    hooks: deployHooks(p.values.hosts, command, p.values.message),
  });
}

export async function deployCommand(argv: string[], secrets: Secrets): Promise<number> {
  const p = parse(
    argv,
    'usage: orch deploy INVENTORY [--ref REF] [--repo DIR] [--path APPDIR] [--serial N] [--keep N] [run options]\n',
  );
  if (!p) return EXIT.usage;
  const { sha, release, artifact } = await buildArtifact(p.values.repo, p.values.ref, p.values.path);
  return rollingRun(
    p,
    secrets,
    `deploy ${p.inventory} ${p.values.ref}=${sha.slice(0, 7)} as ${release}`,
    'deploy.yml',
    {
      deploy_release: release,
      deploy_sha: sha,
      deploy_artifact: artifact,
      deploy_keep: Number(p.values.keep),
    },
  );
}

export async function rollbackCommand(argv: string[], secrets: Secrets): Promise<number> {
  const p = parse(argv, 'usage: orch rollback INVENTORY [--to RELEASE] [--serial N] [run options]\n');
  if (!p) return EXIT.usage;
  return rollingRun(
    p,
    secrets,
    `rollback ${p.inventory}${p.values.to ? ` to ${p.values.to}` : ''}`,
    'rollback.yml',
    p.values.to ? { rollback_to: p.values.to } : {},
  );
}

/** A restart (not a reload) drops what the service holds (Varnish: its whole cache): asked once, on a terminal. */
async function confirmHard(service: string, inventory: string, yes: boolean): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY) {
    throw new UsageError(
      `--hard restarts ${service} instead of reloading it${service === 'varnish' ? ', which empties the cache of every host it runs on' : ''}; confirm with --yes`,
      {
        hint: `Without --hard, orch restart ${inventory} ${service} reloads gracefully.`,
      },
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question(
    `Restart (not reload) ${service} on ${inventory}, one batch at a time${service === 'varnish' ? '? Each host loses its cache' : '?'} Type "${inventory}" to go on: `,
  );
  rl.close();
  return answer.trim() === inventory;
}

export async function restartCommand(argv: string[], secrets: Secrets): Promise<number> {
  const p = parse(
    argv,
    'usage: orch restart INVENTORY SERVICE [--serial N] [--hosts PATTERN] [--hard [--yes]] [run options]\n',
  );
  if (!p) return EXIT.usage;
  const service = p.positionals[1];
  if (!service || !/^[A-Za-z0-9@._-]+$/.test(service))
    throw new UsageError(
      `usage: orch restart ${p.inventory} SERVICE (varnish, app, or a service name)${service ? `; '${service}' is not a service name` : ''}`,
    );
  if (p.values.hard && !(await confirmHard(service, p.inventory, p.values.yes))) {
    process.stderr.write('not confirmed: nothing done\n');
    return EXIT.usage;
  }
  return rollingRun(p, secrets, `restart ${p.inventory} ${service}${p.values.hard ? ' --hard' : ''}`, 'restart.yml', {
    restart_service: service,
    restart_hard: p.values.hard,
  });
}
