import { formatPosition } from '../core/errors.js';
import type { HostStatus, ModuleResult } from '../core/result.js';
import type { HostStats } from '../core/events.js';
import { statusOf, withDiffHeaders } from '../core/result.js';
import type { Task } from '../playbook/model.js';
import { renderText, renderValue } from '../template/env.js';
import { pyRepr } from '../template/python.js';
import type { VarScope } from '../template/scope.js';
import { planMarkOf } from './plan.js';
import type { RunState } from './state.js';

/* What a task result shows: its name, item label, message, and the host_result event. */

export const NO_LOG_MSG =
  "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

export const conditionText = (c: unknown): string => (Array.isArray(c) ? c.map(String).join(' and ') : String(c));

export function label(task: Task, item: unknown, scope: VarScope): string {
  if (task.loop_control?.label !== undefined) return String(renderValue(task.loop_control.label, scope));
  return typeof item === 'string' ? item : pyRepr(item, true);
}

export function messageOf(r: ModuleResult): string | undefined {
  if (r.msg !== undefined && r.msg !== '') return typeof r.msg === 'string' ? r.msg : pyRepr(r.msg);
  return undefined;
}

/** A task's title with its variables filled in when they can be (as Ansible shows names); raw otherwise. */
export function displayName(name: string, scope: VarScope): string {
  if (!name.includes('{{')) return name;
  try {
    return renderText(name, scope);
  } catch {
    return name;
  }
}

export function report(
  rs: RunState,
  task: Task,
  host: string,
  r: ModuleResult,
  started: number,
  noLog: boolean,
  item?: string,
  delegatedTo?: string,
  scope?: VarScope,
): void {
  const status = statusOf(r);
  const ignored = status === 'failed' && Boolean(r._ignored);
  rs.emit({
    type: 'host_result',
    host,
    taskId: task.id,
    task: scope ? displayName(task.name, scope) : task.name,
    module: task.module,
    status,
    item: noLog && item !== undefined ? '(censored)' : item,
    msg: noLog ? (status === 'failed' ? NO_LOG_MSG : undefined) : messageOf(r),
    diff: noLog || !(rs.opts.diff || task.diff) ? undefined : r.diff,
    stdout: noLog ? undefined : r.stdout,
    stderr: noLog ? undefined : r.stderr,
    rc: r.rc,
    ignored: ignored || undefined,
    delegatedTo,
    durationMs: Date.now() - started,
    hint: noLog
      ? undefined
      : ((r.hint as string | undefined) ??
        (status === 'failed' && r.assertion !== undefined
          ? `the condition that failed: ${String(r.assertion)}`
          : undefined)),
    at:
      status === 'failed' || status === 'unreachable'
        ? formatPosition({ file: task.pos.file, line: task.pos.line })
        : undefined,
    plan: planMarkOf(rs, task, r),
  });
}

/** A result of a module that ran says `failed: false` when it did not fail, as Ansible's do (skips do not). */
export function withFailedKey(r: ModuleResult): ModuleResult {
  const out = r.failed === undefined && !r.skipped ? { ...r, failed: false } : r;
  return Array.isArray(out.diff) ? { ...out, diff: out.diff.map(withDiffHeaders) } : out;
}

/** Count a task's result in the host's recap, as Ansible does. */
export function countResult(st: HostStats, status: HostStatus, result: ModuleResult, ignoreErrors: boolean): void {
  if (status === 'unreachable') st.unreachable++;
  else if (status === 'failed' && !ignoreErrors) st.failed++;
  else if (status === 'failed') {
    // as Ansible counts an ignored failure: ignored, and ok (and changed when the result says so)
    st.ignored++;
    st.ok++;
    if (result.changed) st.changed++;
  } else if (status === 'skipped') st.skipped++;
  else if (status === 'changed') {
    st.changed++;
    st.ok++;
  } else st.ok++;
}
