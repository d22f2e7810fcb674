import { appendFileSync, createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Emit, RunEvent } from '../../core/events.js';
import { UsageError } from '../../core/errors.js';
import { resolveInventoryPath } from '../../inventory/load.js';
import { EXIT, runPlaybook } from '../../executor/run.js';
import type { RunOptions } from '../../executor/state.js';
import { lineReporter } from '../../ui/lines.js';
import { ndjsonWriter, Redactor } from '../../ui/ndjson.js';
import { configureVaultFromFile, promptPassword, setVaultPassword } from '../../vault/password.js';
import { parseExtraVars, splitList } from '../args.js';
import { ansibleSettings, settingsVariables } from '../ansible-cfg.js';
import { noteLoadWarning } from '../../core/load-warnings.js';

export const RUN_FLAGS = {
  check: { type: 'boolean', short: 'C', default: false },
  diff: { type: 'boolean', short: 'D', default: false },
  limit: { type: 'string', short: 'l' },
  tags: { type: 'string', short: 't', multiple: true },
  'skip-tags': { type: 'string', multiple: true },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  forks: { type: 'string', short: 'f' },
  inventory: { type: 'string', short: 'i' },
  output: { type: 'string', short: 'o' },
  log: { type: 'string' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  become: { type: 'boolean', short: 'b' },
  'accept-new-host-keys': { type: 'boolean', default: false },
  'connect-timeout': { type: 'string' },
  timeout: { type: 'string' },
  playbook: { type: 'string', short: 'p' },
  'vault-password-file': { type: 'string' },
  'ask-vault-pass': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

export type OutputKind = 'tui' | 'lines' | 'json';

export function chooseOutput(flag: string | undefined): OutputKind {
  if (flag) {
    if (flag !== 'tui' && flag !== 'lines' && flag !== 'json') throw new UsageError(`--output must be tui, lines or json, not '${flag}'`);
    return flag;
  }
  return process.stdout.isTTY && !process.env.CI ? 'tui' : 'lines';
}

export const STATE_DIR = '.orch';

/** Every run appends its events to .orch/runs/<time>-<command>.ndjson (read by `orch history`). */
function runLog(command: string, redact: Redactor): { emit: Emit; path: string } {
  const dir = resolve(STATE_DIR, 'runs');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${command.split(' ')[0]}.ndjson`);
  const write = ndjsonWriter((s) => appendFileSync(path, redact.text(s)));
  return { emit: write, path };
}

export interface RunCommandInput {
  command: string;
  inventory: string;
  playbook: string;
  values: Record<string, unknown>;
  /** extra vars added by the command itself (deploy's release id...) */
  extraVars?: Record<string, unknown>;
  /** deploy, rollback, restart: hold the deploy lock file on these hosts too */
  remoteLock?: { pattern: string; message: string };
}

export async function runWithReporting(input: RunCommandInput): Promise<number> {
  const v = input.values;
  const settings = ansibleSettings();
  const forks = Number(v.forks ?? settings.forks ?? 50);
  if (!Number.isInteger(forks) || forks < 1) throw new UsageError(`--forks must be a positive whole number, not '${String(v.forks)}'`);
  const opts: RunOptions = {
    check: v.check === true,
    diff: v.diff === true,
    forks,
    limit: v.limit as string | undefined,
    tags: splitList(v.tags as string[] | undefined),
    skipTags: splitList(v['skip-tags'] as string[] | undefined),
    extraVars: { ...parseExtraVars((v['extra-vars'] as string[] | undefined) ?? []), ...(input.extraVars ?? {}) },
    verbose: (v.verbose as boolean[] | undefined)?.length ?? 0,
    acceptNewHostKeys: v['accept-new-host-keys'] === true || !settings.hostKeyChecking,
    connectTimeoutMs: Number(v['connect-timeout'] ?? settings.timeoutSeconds ?? 10) * 1000,
    commandTimeoutMs: v.timeout === undefined ? undefined : Number(v.timeout) * 1000,
    become: v.become === true || settings.become === true ? true : undefined,
    defaultVars: settingsVariables(settings),
  };
  for (const note of settings.notes) noteLoadWarning(note);
  if (!settings.hostKeyChecking && v['accept-new-host-keys'] !== true) {
    noteLoadWarning(`host_key_checking is off (${settings.file ?? 'ANSIBLE_HOST_KEY_CHECKING'}): unknown host keys are accepted and recorded; a changed key is still refused`);
  }
  if (v['ask-vault-pass'] === true) setVaultPassword(await promptPassword('Vault password: '));
  else configureVaultFromFile((v['vault-password-file'] as string | undefined) ?? settings.vaultPasswordFile);
  const inventoryPath = resolveInventoryPath(input.inventory);
  const redact = new Redactor();
  const output = chooseOutput(v.output as string | undefined);
  const sinks: Emit[] = [];
  const log = runLog(input.command, redact);
  sinks.push(log.emit);
  if (typeof v.log === 'string') {
    const stream = createWriteStream(v.log, { flags: 'a' });
    sinks.push(ndjsonWriter((s) => stream.write(redact.text(s))));
  }
  let finishUi: (() => Promise<void>) | undefined;
  if (output === 'json') sinks.push(ndjsonWriter((s) => process.stdout.write(redact.text(s))));
  else if (output === 'lines') sinks.push(lineReporter((s) => process.stdout.write(redact.text(s)), opts.verbose));
  else {
    const { startTui } = await import('../../ui/tui.js');
    const tui = startTui({ command: input.command, verbose: opts.verbose, redact: (s) => redact.text(s) });
    sinks.push(tui.emit);
    finishUi = tui.finish;
  }
  const emit: Emit = (e: RunEvent) => {
    const safe = redact.event(e);
    for (const s of sinks) s(safe);
  };
  const stopping: { signal?: string } = {};
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping.signal) {
      emit({ type: 'interrupt', signal, msg: 'second signal: aborting now; remote steps in flight may not finish' });
      process.exit(signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm);
    }
    stopping.signal = signal;
    emit({ type: 'interrupt', signal, msg: 'finishing the tasks in flight; no new task will start (signal again to abort)' });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  let code: number;
  try {
    code = await runPlaybook({ command: input.command, inventoryPath, playbookPath: input.playbook, rolePaths: [resolve('roles'), ...settings.rolesPath], opts, emit, stateDir: resolve(STATE_DIR), stopping, remoteLock: input.remoteLock });
    emit({ type: 'run_end', exitCode: code, durationMs: Date.now() - started });
  } catch (err) {
    emit({ type: 'run_end', exitCode: -1, durationMs: Date.now() - started, error: err instanceof Error ? err.message : String(err) });
    await finishUi?.();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await finishUi?.();
  return code;
}

/**
 * INVENTORY and PLAYBOOK from the command line; as with ansible-playbook, `-i INVENTORY` or ansible.cfg's
 * inventory may stand in for the first (`orch run -i hosts site.yml`, `orch run site.yml`).
 */
function inventoryAndPlaybook(positionals: string[], values: { inventory?: string; playbook?: string }, name: string): [string, string] | undefined {
  const fromConfig = values.inventory ?? ansibleSettings().inventory;
  const [first, second] = positionals;
  if (values.inventory !== undefined || (positionals.length === 1 && name === 'run' && fromConfig !== undefined && /\.ya?ml$/.test(first ?? ''))) {
    if (fromConfig === undefined || positionals.length > 1) return undefined;
    const playbook = first ?? values.playbook ?? (name === 'run' ? undefined : 'playbooks/site.yml');
    return playbook === undefined ? undefined : [fromConfig, playbook];
  }
  if (first === undefined) return undefined;
  const playbook = second ?? values.playbook ?? (name === 'run' ? undefined : 'playbooks/site.yml');
  return playbook === undefined ? undefined : [first, playbook];
}

export async function applyCommand(argv: string[], name = 'apply'): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: RUN_FLAGS, allowPositionals: true });
  const picked = values.help ? undefined : inventoryAndPlaybook(positionals, values, name);
  if (!picked) {
    const usage = name === 'run' ? 'orch run INVENTORY PLAYBOOK | orch run -i INVENTORY PLAYBOOK' : 'orch apply INVENTORY [PLAYBOOK]';
    if (!values.help) throw new UsageError(`usage: ${usage} [options]`);
    process.stdout.write(`usage: ${usage} [--check] [--diff] [--limit PATTERN] [--tags T] [-e k=v] [--forks N] [--output tui|lines|json]\n`);
    return 0;
  }
  const [inventory, playbook] = picked;
  return runWithReporting({ command: `${name} ${inventory}`, inventory, playbook, values });
}
