import { createWriteStream, mkdirSync, openSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Emit, RunEvent } from '../../core/events.js';
import { UsageError } from '../../core/errors.js';
import type { Secrets } from '../../core/secrets.js';
import { resolveInventoryPath } from '../../inventory/load.js';
import { EXIT, runPlaybook, type RunHooks } from '../../executor/run.js';
import type { RunOptions } from '../../executor/state.js';
import { lineReporter } from '../../ui/lines.js';
import { ndjsonWriter, Redactor } from '../../ui/ndjson.js';
import { parseExtraVars, splitList } from '../args.js';
import { ansibleSettings, settingsVariables } from '../ansible-cfg.js';
import { configureVault, VAULT_FLAGS } from '../vault-options.js';
import { noteLoadWarning } from '../../core/load-warnings.js';
import { parseShard, shardLabel, type Shard } from '../../inventory/shard.js';

export const RUN_FLAGS = {
  check: { type: 'boolean', short: 'C', default: false },
  diff: { type: 'boolean', short: 'D', default: false },
  limit: { type: 'string', short: 'l' },
  shard: { type: 'string' },
  'run-id': { type: 'string' },
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
  ...VAULT_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** apply and run: `--plan` shows the plan and asks first (`--yes`: without asking) */
const APPLY_FLAGS = {
  ...RUN_FLAGS,
  plan: { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
} as const;

export type OutputKind = 'tui' | 'lines' | 'json';

export function chooseOutput(flag: string | undefined): OutputKind {
  if (flag) {
    if (flag !== 'tui' && flag !== 'lines' && flag !== 'json')
      throw new UsageError(`--output must be tui, lines or json, not '${flag}'`);
    return flag;
  }
  return process.stdout.isTTY && !process.env.CI ? 'tui' : 'lines';
}

export const STATE_DIR = '.orch';

/**
 * stdout may be a pipe whose reader is gone (`orch apply … | head -1`): then output stops there, and
 * the run goes on (the hosts are mid-change; the run log in .orch/runs still gets every event).
 * cli/main.ts keeps the EPIPE from crashing the process.
 */
function writeStdout(s: string): void {
  if (process.stdout.writable && !process.stdout.destroyed) process.stdout.write(s);
}

/** Every run appends its events to .orch/runs/<time>-<command>.ndjson (read by `orch history`). */
function runLog(command: string, shard: Shard | undefined): { emit: Emit; path: string } {
  const dir = resolve(STATE_DIR, 'runs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // a shard's log says which: the shards of one run may share this directory (and the same second)
  const suffix = shard ? `-${shardLabel(shard)}` : '';
  const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${command.split(' ')[0]}${suffix}.ndjson`);
  // owner-only: diffs show file contents (keys, tokens that are not declared secrets)
  let failed = false;
  // one descriptor for the run, each event written at once (a killed run keeps what it logged)
  let fd: number | undefined;
  // events reach the sinks redacted already (Redactor.event); JSON text is not redacted again, see there
  const write = ndjsonWriter((s) => {
    if (failed) return;
    try {
      fd ??= openSync(path, 'a', 0o600);
      writeSync(fd, s);
    } catch (err) {
      // a full disk must not stop the run on the hosts half-way: said once, on stderr
      failed = true;
      process.stderr.write(
        `WARNING: run log ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; the run goes on without it\n`,
      );
    }
  });
  return { emit: write, path };
}

export interface RunCommandInput {
  command: string;
  /** the invocation's secrets (cli/main.ts): the vault password goes in, every output is redacted with it */
  secrets: Secrets;
  inventory: string;
  playbook: string;
  values: Record<string, unknown>;
  /** extra vars added by the command itself (deploy's release id...) */
  extraVars?: Record<string, unknown>;
  /** what the command adds around the plays (deploy, rollback, restart: src/deploy/hooks.ts) */
  hooks?: RunHooks;
  /** `orch plan`: the run is a plan; its events go here, and only the TUI (or -v lines) shows the run itself */
  plan?: Emit;
}

export async function runWithReporting(input: RunCommandInput): Promise<number> {
  const v = input.values;
  const settings = ansibleSettings();
  const forks = Number(v.forks ?? settings.forks ?? 50);
  if (!Number.isInteger(forks) || forks < 1)
    throw new UsageError(`--forks must be a positive whole number, not '${String(v.forks)}'`);
  const opts: RunOptions = {
    check: v.check === true,
    diff: v.diff === true,
    forks,
    limit: v.limit as string | undefined,
    shard: typeof v.shard === 'string' ? parseShard(v.shard) : undefined,
    tags: splitList(v.tags as string[] | undefined),
    skipTags: splitList(v['skip-tags'] as string[] | undefined),
    extraVars: { ...parseExtraVars((v['extra-vars'] as string[] | undefined) ?? []), ...(input.extraVars ?? {}) },
    verbose: (v.verbose as boolean[] | undefined)?.length ?? 0,
    acceptNewHostKeys: v['accept-new-host-keys'] === true || !settings.hostKeyChecking,
    connectTimeoutMs: Number(v['connect-timeout'] ?? settings.timeoutSeconds ?? 10) * 1000,
    commandTimeoutMs: v.timeout === undefined ? undefined : Number(v.timeout) * 1000,
    become: v.become === true || settings.become === true ? true : undefined,
    defaultVars: settingsVariables(settings),
    plan: input.plan !== undefined || undefined,
    warnOnMissingHandler: !settings.errorOnMissingHandler || undefined,
  };
  for (const note of settings.notes) noteLoadWarning(note);
  if (!settings.hostKeyChecking && v['accept-new-host-keys'] !== true) {
    noteLoadWarning(
      `host_key_checking is off (${settings.file ?? 'ANSIBLE_HOST_KEY_CHECKING'}): unknown host keys are accepted and recorded; a changed key is still refused`,
    );
  }
  await configureVault(input.secrets, v, settings.vaultPasswordFile);
  const inventoryPath = resolveInventoryPath(input.inventory);
  const redact = new Redactor(input.secrets);
  const output = chooseOutput(v.output as string | undefined);
  const sinks: Emit[] = [];
  const log = runLog(input.command, opts.shard);
  sinks.push(log.emit);
  if (typeof v.log === 'string') {
    let fd: number;
    try {
      fd = openSync(v.log, 'a', 0o600);
    } catch (err) {
      throw new UsageError(
        `--log ${v.log}: cannot write there (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    const stream = createWriteStream('', { fd });
    // a log that cannot be written (a closed pipe, a full disk) is said once; the run on the hosts goes on
    stream.on('error', (err: NodeJS.ErrnoException) =>
      process.stderr.write(
        `WARNING: --log ${String(v.log)}: ${err.code ?? err.message}; the run goes on (.orch/runs keeps its log)\n`,
      ),
    );
    sinks.push(
      ndjsonWriter((s) => {
        if (!stream.destroyed) stream.write(s);
      }),
    );
  }
  let finishUi: (() => Promise<void>) | undefined;
  if (input.plan) sinks.push(input.plan);
  if (input.plan && (output === 'json' || opts.verbose === 0)) {
    // the plan is printed once the run is done (cli/commands/plan.ts)
  } else if (output === 'json') sinks.push(ndjsonWriter((s) => writeStdout(s)));
  else if (output === 'lines') sinks.push(lineReporter((s) => writeStdout(redact.text(s)), opts.verbose));
  // the TUI starts once loading is done (onLoaded): it takes the terminal (raw mode, its own Ctrl-C)
  const tuiModule = output === 'tui' ? await import('../../ui/tui.js') : undefined;
  const emit: Emit = (e: RunEvent) => {
    const safe = redact.event(e);
    for (const s of sinks) s(safe);
  };
  const stopping: { signal?: string } = {};
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping.signal) {
      emit({ type: 'interrupt', signal, msg: 'second signal: aborting now; remote steps in flight may not finish' });
      process.exit(signal === 'SIGINT' ? EXIT.sigint : signal === 'SIGHUP' ? EXIT.sighup : EXIT.sigterm);
    }
    stopping.signal = signal;
    // SIGHUP (the terminal or ssh session went away) stops a run the same way as SIGTERM
    const why = signal === 'SIGHUP' ? 'hangup (terminal closed): ' : '';
    emit({
      type: 'interrupt',
      signal,
      msg: `${why}finishing the tasks in flight; no new task will start (signal again to abort)`,
    });
  };
  const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  // Installed once loading is done: loading is synchronous, and while a handler is installed a signal
  // waits for the event loop. Before, the default action ends the process at once (nothing to clean up yet).
  const onLoaded = () => {
    for (const sig of SIGNALS) process.on(sig, onSignal);
    if (tuiModule) {
      const tui = tuiModule.startTui({ command: input.command, verbose: opts.verbose, redact: (s) => redact.text(s) });
      sinks.push(tui.emit);
      finishUi = tui.finish;
    }
  };
  const started = Date.now();
  let code: number;
  try {
    const runId = (v['run-id'] as string | undefined) ?? process.env.ORCH_RUN_ID;
    code = await runPlaybook({
      command: input.command,
      runId,
      inventoryPath,
      playbookPath: input.playbook,
      rolePaths: [resolve('roles'), ...settings.rolesPath],
      opts,
      emit,
      secrets: input.secrets,
      stateDir: resolve(STATE_DIR),
      stopping,
      hooks: input.hooks,
      onLoaded,
    });
    emit({ type: 'run_end', exitCode: code, durationMs: Date.now() - started });
  } catch (err) {
    emit({
      type: 'run_end',
      exitCode: -1,
      durationMs: Date.now() - started,
      error: err instanceof Error ? err.message : String(err),
    });
    await finishUi?.();
    throw err;
  } finally {
    for (const sig of SIGNALS) process.off(sig, onSignal);
  }
  await finishUi?.();
  return code;
}

/**
 * INVENTORY and PLAYBOOK from the command line; as with ansible-playbook, `-i INVENTORY` or ansible.cfg's
 * inventory may stand in for the first (`orch run -i hosts site.yml`, `orch run site.yml`).
 */
export function inventoryAndPlaybook(
  positionals: string[],
  values: { inventory?: string; playbook?: string },
  name: string,
): [string, string] | undefined {
  const fromConfig = values.inventory ?? ansibleSettings().inventory;
  const [first, second] = positionals;
  if (
    values.inventory !== undefined ||
    (positionals.length === 1 && name === 'run' && fromConfig !== undefined && /\.ya?ml$/.test(first ?? ''))
  ) {
    if (fromConfig === undefined || positionals.length > 1) return undefined;
    const playbook = first ?? values.playbook ?? (name === 'run' ? undefined : 'playbooks/site.yml');
    return playbook === undefined ? undefined : [fromConfig, playbook];
  }
  if (first === undefined) return undefined;
  const playbook = second ?? values.playbook ?? (name === 'run' ? undefined : 'playbooks/site.yml');
  return playbook === undefined ? undefined : [first, playbook];
}

export async function applyCommand(argv: string[], secrets: Secrets, name = 'apply'): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: APPLY_FLAGS, allowPositionals: true });
  const picked = values.help ? undefined : inventoryAndPlaybook(positionals, values, name);
  if (!picked) {
    const usage =
      name === 'run'
        ? 'orch run INVENTORY PLAYBOOK | orch run -i INVENTORY PLAYBOOK'
        : 'orch apply INVENTORY [PLAYBOOK]';
    if (!values.help) throw new UsageError(`usage: ${usage} [options]`);
    process.stdout.write(
      `usage: ${usage} [--check] [--diff] [--limit PATTERN] [--shard I/N [--run-id ID]] [--tags T] [-e k=v] [--forks N] [--output tui|lines|json] [--plan [--yes]]\n`,
    );
    return 0;
  }
  const [inventory, playbook] = picked;
  if (values.plan) {
    const stop = await (await import('./plan.js')).planBeforeApply(inventory, playbook, values, secrets);
    if (stop !== undefined) return stop;
  }
  const { plan: _plan, yes: _yes, ...runValues } = values;
  void _plan;
  void _yes;
  return runWithReporting({ command: `${name} ${inventory}`, secrets, inventory, playbook, values: runValues });
}
