import type { ModuleResult } from '../core/result.js';
import { shellJoin } from '../transport/quote.js';
import type { ExecResult } from '../transport/types.js';
import type { Params } from './spec.js';

/** Printed instead of running when creates/removes says no (the guard, or its repetition before the command). */
export const SKIP_MARK = '__orch_command_skipped__';
/** Printed when chdir fails. */
export const CD_FAILED = '__orch_chdir_failed__';
/** Printed on stderr (with errno and message) when the program cannot be executed. */
export const EXEC_FAILED = '__orch_exec_failed__';

export const cdFailure = (dir: unknown): string =>
  `Unable to change directory before execution: [Errno 2] No such file or directory: b'${String(dir)}'`;

/** Python's str.splitlines(), which Ansible uses for stdout_lines. */
export function splitLines(s: string): string[] {
  if (s === '') return [];
  const parts = s.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (/(\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029])$/.test(s)) parts.pop();
  return parts;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
/** Python's str(datetime.now()): local time with microseconds. */
function pyDateTime(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds() * 1000, 6)}`;
}
/** Python's str(timedelta) for a non-negative span. */
function pyDelta(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad((ms % 1000) * 1000, 6)}`;
}

/** The result of a command that did not run (yet): Ansible's keys, empty. */
export function notRun(cmd: string | string[]): ModuleResult {
  return { changed: false, stdout: '', stderr: '', cmd, start: null, end: null, delta: null, msg: '' };
}

/** creates exists / removes does not: Ansible's result ("Would" in check mode). */
export function skipped(p: Params, cmd: string | string[], check: boolean): ModuleResult {
  const would = check ? 'Would' : 'Did';
  return typeof p.creates === 'string'
    ? {
        ...notRun(cmd),
        rc: 0,
        msg: `${would} not run command since '${p.creates}' exists`,
        stdout: `skipped, since ${p.creates} exists`,
      }
    : {
        ...notRun(cmd),
        rc: 0,
        msg: `${would} not run command since '${String(p.removes)}' does not exist`,
        stdout: `skipped, since ${String(p.removes)} does not exist`,
      };
}

/** What the command module reports once the command ran (from start to end): as Ansible's command.py. */
export function finishCommand(
  p: Params,
  cmd: string | string[],
  r: Pick<ExecResult, 'rc' | 'stdout' | 'stderr' | 'truncated' | 'timedOutAfterMs'>,
  start: Date,
  end: Date,
): ModuleResult {
  if (r.stdout === CD_FAILED) return { ...notRun(cmd), failed: true, msg: cdFailure(p.chdir) };
  if (r.stdout === SKIP_MARK) return skipped(p, cmd, false);
  const failedExec = new RegExp(`\\n?${EXEC_FAILED} (\\d+) (.*)$`).exec(r.stderr);
  if (failedExec && r.rc === 255) {
    const argv0 = Array.isArray(cmd) ? cmd[0] : '/bin/sh';
    return {
      changed: false,
      failed: true,
      rc: Number(failedExec[1]),
      stdout: '',
      stderr: '',
      cmd: Array.isArray(cmd) ? shellJoin(cmd) : cmd,
      msg: `[Errno ${failedExec[1]}] ${failedExec[2]}: b'${String(argv0)}'`,
    };
  }
  const strip = p.strip_empty_ends !== false;
  const stdout = strip ? r.stdout.replace(/[\r\n]+$/, '') : r.stdout;
  const stderr = strip ? r.stderr.replace(/[\r\n]+$/, '') : r.stderr;
  const result: ModuleResult = {
    ...notRun(cmd),
    changed: true,
    rc: r.rc,
    stdout,
    stderr,
    stdout_lines: splitLines(stdout),
    stderr_lines: splitLines(stderr),
    start: pyDateTime(start),
    end: pyDateTime(end),
    delta: pyDelta(end.getTime() - start.getTime()),
  };
  if (r.truncated) result.warnings = ['output was larger than orch keeps; its middle was dropped'];
  if (r.rc !== 0) {
    result.failed = true;
    result.msg =
      r.timedOutAfterMs !== undefined
        ? `timed out after ${r.timedOutAfterMs / 1000} s: the command was killed`
        : 'non-zero return code';
  }
  return result;
}
