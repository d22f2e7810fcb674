import type { RunEvent } from '../../src/core/events.js';

/** Task-by-task statuses of an orch run and of an ansible-playbook run (json callback), to compare them. */

export type Status = 'ok' | 'changed' | 'failed' | 'skipped';

/**
 * One entry per task run, in order: a task run again (an include's tasks, once per loop item) is a new entry, as
 * in Ansible's output.
 */
export function orchStatuses(events: RunEvent[]): [string, Status][] {
  const runs: { name: string; statuses: string[] }[] = [];
  const current = new Map<number, { name: string; statuses: string[] }>();
  for (const r of events) {
    if (r.type === 'task_start') {
      const run = { name: r.name, statuses: [] as string[] };
      runs.push(run);
      current.set(r.taskId, run);
    } else if (r.type === 'host_result') current.get(r.taskId)?.statuses.push(r.status);
  }
  return runs
    .filter((t) => t.statuses.length > 0)
    .map((t) => [
      t.name,
      t.statuses.includes('failed')
        ? 'failed'
        : t.statuses.includes('changed')
          ? 'changed'
          : t.statuses.every((s) => s === 'skipped')
            ? 'skipped'
            : 'ok',
    ]);
}

export interface AnsibleJson {
  plays: {
    tasks: {
      task: { name: string };
      hosts: Record<string, { changed?: boolean; failed?: boolean; skipped?: boolean }>;
    }[];
  }[];
  stats: Record<
    string,
    {
      ok: number;
      changed: number;
      failures: number;
      rescued: number;
      skipped: number;
      unreachable: number;
      ignored: number;
    }
  >;
}

export function ansibleStatuses(out: AnsibleJson, host: string): [string, Status][] {
  return (out.plays[0]?.tasks ?? []).map((t) => {
    const h = t.hosts[host] ?? {};
    return [t.task.name, h.failed ? 'failed' : h.changed ? 'changed' : h.skipped ? 'skipped' : 'ok'];
  });
}
