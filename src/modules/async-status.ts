import type { ModuleResult } from '../core/result.js';
import { raw, sh } from '../transport/quote.js';
import { ASYNC_DIR_SHELL, type JobMeta } from './async-job.js';
import { finishCommand } from './command-result.js';
import { perlString } from './probe.js';
import type { Params } from './spec.js';
import { ModuleFailure, type Module, type ModuleContext } from './types.js';

/** Ansible's async_status over the job files of async-job.ts (and a finished job Ansible's wrapper wrote). */

const FILES = ['', '.meta', '.out', '.err'];

/** Probe: the job directory, then each job file in hex ("-" when missing). */
const readJob = (ctx: ModuleContext, jid: string) =>
  ctx.probe(
    `my $d = "$ENV{HOME}/.ansible_async"; my $j = ${perlString(jid)}; print "$d\\n"; ` +
      `for my $s (${FILES.map((f) => `"${f}"`).join(', ')}) { if (open(my $h, "<", "$d/$j$s")) { binmode $h; local $/; ` +
      `my $c = <$h>; print unpack("H*", $c // ""), "\\n"; } else { print "-\\n"; } }`,
  );

const noOutput = { stdout: '', stderr: '', stdout_lines: [], stderr_lines: [] };

function fromHex(h: string | undefined): string | undefined {
  return h === undefined || h === '-' ? undefined : Buffer.from(h, 'hex').toString('utf8');
}

/** The module's result of a finished job, from the status file and the job's other files. */
function finished(status: Record<string, unknown>, meta: string | undefined, out = '', err = ''): ModuleResult {
  if (status.orch_result !== undefined) return status.orch_result as ModuleResult;
  if (status.orch_job === undefined) return status as unknown as ModuleResult; // written by Ansible's wrapper
  const m = JSON.parse(meta ?? '{}') as JobMeta;
  const ns = (v: unknown) => new Date(Number(v) / 1e6);
  const r = { rc: Number(status.rc), stdout: out, stderr: err };
  return finishCommand(m.p as Params, m.cmd, r, ns(status.start_ns), ns(status.end_ns));
}

export const asyncStatus: Module = {
  name: 'async_status',
  spec: {
    params: {
      jid: { type: 'str', support: 'full', required: true },
      mode: { type: 'str', support: 'full', choices: ['status', 'cleanup'], default: 'status' },
    },
  },
  // no query: a job's state changes with time, so it is never fetched ahead of the task (prefetch.ts)
  async run(ctx, p) {
    const jid = String(p.jid);
    if (jid.includes('/'))
      throw new ModuleFailure('could not find job', { ansible_job_id: jid, started: 1, finished: 1 });
    if (p.mode === 'cleanup') {
      const r = await ctx.run(
        sh`d=${raw(ASYNC_DIR_SHELL)} && cd "$d" && rm -f -- ${FILES.concat('.cmd', '.in', '.tmp').map((f) => `${jid}${f}`)} && printf %s "$d"`,
      );
      if (r.rc !== 0) throw new ModuleFailure(`could not remove the job files: ${r.stderr.trim()}`);
      return {
        ansible_job_id: jid,
        changed: false,
        erased: `${r.stdout}/${jid}`,
        finished: 0,
        started: 0,
        ...noOutput,
      };
    }
    const r = await readJob(ctx, jid);
    if (r.rc !== 0) throw new ModuleFailure(`could not read the job: ${r.stderr.trim()}`);
    const [dir = '', ...files] = r.stdout.split('\n');
    const [status, meta, out, err] = files.map(fromHex);
    const keys = { ansible_job_id: jid, results_file: `${dir}/${jid}`, started: 1 };
    if (status === undefined)
      throw new ModuleFailure('could not find job', { ...keys, changed: false, finished: 1, ...noOutput });
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(status) as Record<string, unknown>;
    } catch (e) {
      throw new ModuleFailure(`Could not parse job output: ${status}`, { ...keys, changed: false, finished: 1 });
    }
    if (!data.finished) return { ...keys, changed: false, finished: 0, ...noOutput };
    return { ...finished(data, meta, out, err), ...keys, finished: 1 };
  },
};
