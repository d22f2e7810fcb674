import { randomInt } from 'node:crypto';
import type { ModuleResult } from '../core/result.js';
import { raw, sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { ModuleFailure, type ModuleContext } from './types.js';

/**
 * `async: N` with `poll: 0` for command and shell: the command starts as a background job on the host and the
 * task answers at once with the job's id; `async_status` (async-status.ts) reads how it ended. As Ansible's
 * async_wrapper, the job's files are in ~/.ansible_async of the user the task runs as (become applies), and the
 * job and what it started are killed at N seconds, leaving the job unfinished.
 *
 * Files of job J: J (status: Ansible's `{"started": 1, "finished": 0, ...}` until the job ends, then orch's
 * `{"orch_job": 1, "finished": 1, "rc": ..., "start_ns": ..., "end_ns": ...}`, or `{"orch_result": ...}` when the
 * module answered without starting anything), J.meta (what async_status needs to build the module's result),
 * J.cmd (the command line), J.in (its stdin), J.out and J.err.
 */

export const ASYNC_DIR_SHELL = '"$HOME/.ansible_async"';

/** Ansible's job id shape: j, 12 digits, a dot, a number (Ansible's is the wrapper's pid). */
export function newJobId(): string {
  return `j${randomInt(100_000_000_000, 1_000_000_000_000)}.${randomInt(1000, 100_000)}`;
}

/** Run by `timeout` in its own session: the command with its files, then the status written whole (rename). */
const JOB_SCRIPT = [
  'j=$1; s=$(date +%s%N); sh -c "$(cat "$j.cmd")" <"$j.in" >"$j.out" 2>"$j.err"; rc=$?; e=$(date +%s%N)',
  'printf \'{"orch_job": 1, "finished": 1, "rc": %s, "start_ns": %s, "end_ns": %s}\' "$rc" "$s" "$e" >"$j.tmp"',
  'mv -f "$j.tmp" "$j"',
].join('; ');

/** What async_status keeps of the task to build the result: the result's cmd and the params it reads. */
export interface JobMeta {
  cmd: string | string[];
  p: Pick<Params, 'chdir' | 'creates' | 'removes' | 'strip_empty_ends'>;
}

function started(jid: string, dir: string): ModuleResult {
  // Ansible's async_wrapper answers `"failed": 0` (an int, as its other flags)
  const flags: Record<string, unknown> = { failed: 0, finished: 0, started: 1 };
  return { ansible_job_id: jid, changed: true, ...flags, results_file: `${dir}/${jid}` };
}

async function launch(ctx: ModuleContext, jid: string, seconds: number, text: string, stdin: string, meta: JobMeta) {
  const r = await ctx.run(
    sh`d=${raw(ASYNC_DIR_SHELL)} && umask 077 && mkdir -p "$d" && j="$d"/${jid} && cat >"$j.in"` +
      sh` && printf %s ${JSON.stringify(meta)} >"$j.meta" && printf %s ${text} >"$j.cmd"` +
      sh` && printf %s ${JSON.stringify({ started: 1, finished: 0, ansible_job_id: jid })} >"$j"` +
      sh` && { setsid timeout -s KILL ${seconds} sh -c ${JOB_SCRIPT} orch-job "$j" </dev/null >/dev/null 2>&1 & }` +
      sh` && printf %s "$d"`,
    { stdin, timeoutMs: 30_000 },
  );
  if (r.rc !== 0) throw new ModuleFailure(`could not start the async job: ${r.stderr.trim() || `rc ${r.rc}`}`);
  return started(jid, r.stdout);
}

/** The module answered without starting the command (creates exists, chdir failed): a job already finished. */
async function finishedAtOnce(ctx: ModuleContext, jid: string, result: ModuleResult): Promise<ModuleResult> {
  const r = await ctx.run(
    sh`d=${raw(ASYNC_DIR_SHELL)} && umask 077 && mkdir -p "$d" && printf %s ${JSON.stringify({ orch_result: result, finished: 1 })} >"$d"/${jid} && printf %s "$d"`,
  );
  if (r.rc !== 0) throw new ModuleFailure(`could not record the async job: ${r.stderr.trim() || `rc ${r.rc}`}`);
  return started(jid, r.stdout);
}

/**
 * Runs a command module (`runModule`) as a background job limited to `seconds`: the job's start is the result.
 * In check mode the module runs as usual (it does not run the command).
 */
export async function startJob(
  ctx: ModuleContext,
  seconds: number,
  runModule: (ctx: ModuleContext) => Promise<ModuleResult>,
): Promise<ModuleResult> {
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new ModuleFailure(`async must be a positive number of seconds with poll: 0, got ${String(seconds)}`);
  if (ctx.check) return runModule(ctx);
  const jid = newJobId();
  let job: ModuleResult | undefined;
  ctx.background = async (text, stdin, meta) => (job = await launch(ctx, jid, seconds, text, stdin, meta));
  const r = await runModule(ctx);
  return job ?? (r.failed ? r : finishedAtOnce(ctx, jid, r));
}
