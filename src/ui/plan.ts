import type { FileDiff } from '../core/result.js';
import type { RunEvent } from '../core/events.js';
import { diffText } from './format.js';

/** `orch plan`'s document: built from the run's events; the same for the terminal, lines and JSON. */

export type PlanStatus = 'change' | 'unknown' | 'unchanged' | 'skip' | 'failed';

export interface PlanEntry {
  task: string;
  module: string;
  role?: string;
  /** where the task is: file:line */
  at?: string;
  item?: string;
  status: PlanStatus;
  /** why: for unknowns "depends on <task> (file:line)", for failures the error */
  reason?: string;
  diff?: FileDiff[];
}

export interface HostPlan {
  host: string;
  tasks: PlanEntry[];
}

export interface PlanCounts {
  change: number;
  unknown: number;
  unchanged: number;
  skip: number;
  failed: number;
}

export interface PlanDocument {
  format: 'orch-plan';
  version: 1;
  hosts: HostPlan[];
  summary: PlanCounts & { hosts: number };
}

type HostResult = Extract<RunEvent, { type: 'host_result' }>;

function statusOf(e: HostResult): PlanStatus {
  if (e.plan) return e.plan.status;
  if (e.status === 'changed') return 'change';
  if (e.status === 'ok') return 'unchanged';
  if (e.status === 'skipped') return 'skip';
  return e.ignored ? 'unchanged' : 'failed';
}

export class PlanCollector {
  private readonly tasks = new Map<number, { at?: string; role?: string }>();
  private readonly hosts = new Map<string, PlanEntry[]>();
  private order: string[] = [];

  readonly emit = (e: RunEvent): void => {
    if (e.type === 'run_start') this.order = e.hosts;
    if (e.type === 'task_start')
      this.tasks.set(e.taskId, { at: e.file === undefined ? undefined : `${e.file}:${e.line ?? ''}`, role: e.role });
    if (e.type !== 'host_result') return;
    const t = this.tasks.get(e.taskId);
    const status = statusOf(e);
    const entry: PlanEntry = { task: e.task, module: e.module, status };
    if (t?.role) entry.role = t.role;
    if (t?.at) entry.at = t.at;
    if (e.item !== undefined) entry.item = e.item;
    const reason = e.plan?.reason ?? (status === 'failed' ? e.msg : undefined);
    if (reason) entry.reason = reason;
    if (e.diff?.length && (status === 'change' || status === 'unknown')) entry.diff = e.diff;
    const list = this.hosts.get(e.host) ?? [];
    list.push(entry);
    this.hosts.set(e.host, list);
  };

  document(): PlanDocument {
    const rank = (h: string) => (this.order.includes(h) ? this.order.indexOf(h) : this.order.length);
    const hosts = [...this.hosts].sort(([a], [b]) => rank(a) - rank(b)).map(([host, tasks]) => ({ host, tasks }));
    return {
      format: 'orch-plan',
      version: 1,
      hosts,
      summary: { hosts: hosts.length, ...countAll(hosts.flatMap((h) => h.tasks)) },
    };
  }
}

function countAll(entries: PlanEntry[]): PlanCounts {
  const c: PlanCounts = { change: 0, unknown: 0, unchanged: 0, skip: 0, failed: 0 };
  for (const e of entries) c[e.status]++;
  return c;
}

/** Changes pending: something to change, or something the plan cannot tell (never "nothing to do" then). */
export function pending(doc: PlanDocument): boolean {
  return doc.summary.change > 0 || doc.summary.unknown > 0;
}

export function summaryLine(doc: PlanDocument): string {
  const s = doc.summary;
  const parts = [`${s.change} to change`, `${s.unknown} unknown`, `${s.unchanged} unchanged`];
  if (s.skip) parts.push(`${s.skip} skipped`);
  if (s.failed) parts.push(`${s.failed} failed`);
  return `${s.hosts} host${s.hosts === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

const MARK: Record<PlanStatus, string> = { change: '~', unknown: '?', failed: '!', unchanged: ' ', skip: ' ' };

/** The plan as text: per host, what changes (with diffs) and what is unknown and why; then the summary. */
export function planText(doc: PlanDocument): string {
  const out: string[] = [];
  for (const h of doc.hosts) {
    const c = countAll(h.tasks);
    out.push(
      `${h.host}: ${c.change} to change, ${c.unknown} unknown, ${c.unchanged} unchanged${c.failed ? `, ${c.failed} failed` : ''}`,
    );
    for (const t of h.tasks) {
      if (t.status !== 'change' && t.status !== 'unknown' && t.status !== 'failed') continue;
      const name = `${t.role ? `${t.role} : ` : ''}${t.task}${t.item !== undefined ? ` (item=${t.item})` : ''}`;
      const label = t.status === 'change' ? 'change' : t.status;
      out.push(
        `  ${MARK[t.status]} ${label}: ${name}${t.at ? ` [${t.at}]` : ''}${t.reason && t.status !== 'change' ? `: ${t.reason}` : ''}`,
      );
      const d = diffText({
        type: 'host_result',
        host: h.host,
        taskId: 0,
        task: t.task,
        module: t.module,
        status: 'changed',
        durationMs: 0,
        diff: t.diff,
      });
      if (d) out.push(d.replace(/\n$/, '').replace(/^/gm, '      '));
    }
  }
  out.push('', summaryLine(doc));
  return `${out.join('\n')}\n`;
}
