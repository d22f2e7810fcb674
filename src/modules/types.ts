import type { JobMeta } from './async-job.js';
import type { ModuleResult } from '../core/result.js';
import type { RenderOptions } from '../template/env.js';
import type { VarScope } from '../template/scope.js';
import type { ExecResult } from '../transport/types.js';
import type { ModuleSpec, Params } from './spec.js';

export interface RunOptions {
  stdin?: string | Buffer;
  timeoutMs?: number;
  cwd?: string;
  /**
   * A read-only probe sent right behind the command on the same runner, in the same round trip: its answer
   * comes back in the result's `followed` when the transport could send it so (not for a query answered
   * from what was fetched ahead, nor in exec mode).
   */
  then?: string;
}

/** What `run` answers: the command's result and, with `then`, the probe's. */
export type RunResult = ExecResult & { followed?: ExecResult };

/** What a module gets: no SSH, no UI, no globals. */
export interface ModuleContext {
  host: string;
  /** Run a shell command on the host, with the task's become/environment applied. */
  run(command: string, opts?: RunOptions): Promise<RunResult>;
  /**
   * Run a probe: read-only Perl code (rules in probe.ts) that the host's command runner evaluates without a fork.
   * Answered as run answers; sent as run sends the probe's shell form (probe-command.ts), so the executor records
   * and batches it as any query.
   */
  probe(code: string, opts?: RunOptions): Promise<ExecResult>;
  check: boolean;
  diff: boolean;
  /** -v count of the run (debug's verbosity) */
  verbosity?: number;
  vars: VarScope;
  /** Find a file on the control machine in the role's/playbook's `files` or `templates` dir. */
  findLocal(kind: 'files' | 'templates' | 'vars', name: string): string | undefined;
  /** Render template text with the task's variables (and the template module's environment and variables). */
  render(text: string, opts?: RenderOptions): string;
  /** Template a value (used by modules whose arguments are evaluated late, like assert). */
  evaluate(expr: string): unknown;
  warn(msg: string): void;
  /** Open a brand-new connection to the host and run `true` on it (used after sshd changes). */
  probeConnection(): Promise<void>;
  /**
   * wait_for_connection / reboot: the host's connection. reset() drops it and logs in again (connect
   * timeout in ms when given); later commands of the task and later tasks use the new one.
   */
  connection?: { isLocal(): boolean; reset(connectTimeoutMs?: number): Promise<void> };
  /**
   * `async` with `poll: 0` (set by async-job.ts for command and shell): the command line (its stdin) starts as a
   * background job instead of running; the job's start is the module's result.
   */
  background?(text: string, stdin: string, meta: JobMeta): Promise<ModuleResult>;
  /** add_host / group_by: the run's in-memory inventory (each answers whether it changed). */
  inventory?: InventoryEditor;
}

export interface InventoryEditor {
  addHost(name: string, groups: string[], vars: Record<string, unknown>): boolean;
  groupBy(host: string, group: string, parents: string[]): boolean;
}

export interface Module {
  name: string;
  spec: ModuleSpec;
  /** Runs in check mode too; state modules stop after plan when ctx.check (see defineStateModule). */
  run(ctx: ModuleContext, params: Params): Promise<ModuleResult>;
  /**
   * Read-only: only inspects the host. The executor runs it with a recording context to learn the
   * command the task will run first, and batches those commands for the tasks ahead (one round trip).
   */
  query?(ctx: ModuleContext, params: Params): Promise<unknown>;
  /**
   * Its query starts processes on the host (stat's file and lsattr), not only Perl in the runner: fetched
   * behind a write only as the very next task's, since a change by any task between would waste it.
   */
  queryStartsProcesses?: boolean;
  /** Its ansible_facts are host facts (setup, package_facts...), not variables as set_fact's are. */
  gathersFacts?: boolean;
  /** Runs once for the whole play, on its first host, as Ansible's BYPASS_HOST_LOOP actions (add_host). */
  bypassHostLoop?: boolean;
  /** Executes on the controller only (debug, set_fact, assert...): no connection needed. */
  local?: boolean;
  /** Parameters that are expressions, not templates (assert's `that`): left untemplated for the module. */
  rawParams?: readonly string[];
  /** Loops and `when` apply but arguments are passed before templating (meta). */
  noTemplate?: boolean;
}

/** A query → plan → apply module. plan is pure: the part unit tables test. */
export interface StateModuleParts<S, C> {
  name: string;
  spec: ModuleSpec;
  query(ctx: ModuleContext, params: Params): Promise<S>;
  /** null when the host already matches the params. */
  plan(params: Params, state: S): { changes: C; result?: Partial<ModuleResult> } | null;
  apply(ctx: ModuleContext, params: Params, changes: C, state: S): Promise<Partial<ModuleResult> | void>;
  /** What to report when nothing changes (and extra keys on every result). */
  describe?(params: Params, state: S): Partial<ModuleResult>;
}

export function defineStateModule<S, C>(parts: StateModuleParts<S, C>): Module {
  return {
    name: parts.name,
    spec: parts.spec,
    query: (ctx, params) => parts.query(ctx, params),
    async run(ctx, params) {
      const state = await parts.query(ctx, params);
      const base = parts.describe?.(params, state) ?? {};
      const planned = parts.plan(params, state);
      if (!planned) return { changed: false, ...base };
      const result: ModuleResult = { ...base, ...planned.result, changed: true };
      if (!ctx.diff) delete result.diff;
      if (ctx.check) return result;
      const applied = await parts.apply(ctx, params, planned.changes, state);
      return { ...result, ...(applied ?? {}), changed: applied?.changed ?? true };
    },
  };
}

export class ModuleFailure extends Error {
  constructor(
    message: string,
    readonly extra: Partial<ModuleResult> = {},
  ) {
    super(message);
  }
}

/** Fail the task with the command's output attached. */
export function commandFailed(what: string, r: ExecResult): ModuleFailure {
  const detail = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
  return new ModuleFailure(`${what} failed (rc=${r.rc})${detail ? `: ${detail}` : ''}`, {
    rc: r.rc,
    stdout: r.stdout,
    stderr: r.stderr,
  });
}
