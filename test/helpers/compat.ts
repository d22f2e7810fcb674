import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
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

/** One host's entry for a task in ansible-playbook's json callback (a looped task: its items in results[]). */
export interface AnsibleHostResult {
  action?: string;
  changed?: boolean;
  failed?: boolean;
  skipped?: boolean;
  unreachable?: boolean;
  msg?: string;
  results?: AnsibleHostResult[];
}

export interface AnsibleJson {
  plays: {
    play: { name: string };
    tasks: {
      task: { name: string };
      hosts: Record<string, AnsibleHostResult>;
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

/** ansible-playbook ARGS with the json callback, verifying host keys as orch does; its output (it must exit 0). */
export function ansiblePlaybook(args: string[], timeoutMs?: number, status = 0): AnsibleJson {
  const a = spawnSync('ansible-playbook', args, {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_NOCOLOR: '1' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: timeoutMs,
  });
  assert.equal(a.status, status, a.stdout.slice(-3000) + a.stderr.slice(-2000));
  return JSON.parse(a.stdout.slice(a.stdout.indexOf('{'))) as AnsibleJson;
}

/** The seven recap counters per host, in this order: ok changed unreachable failed skipped rescued ignored. */
export function orchRecap(events: RunEvent[]): Record<string, number[]> {
  const recap = events.find((e) => e.type === 'recap');
  assert.ok(recap?.type === 'recap', 'orch printed a recap');
  return Object.fromEntries(
    Object.entries(recap.stats).map(([h, s]) => [
      h,
      [s.ok, s.changed, s.unreachable, s.failed, s.skipped, s.rescued, s.ignored],
    ]),
  );
}

/** The same seven counters from ansible-playbook's stats. */
export function ansibleRecap(out: AnsibleJson): Record<string, number[]> {
  return Object.fromEntries(
    Object.entries(out.stats).map(([h, s]) => [
      h,
      [s.ok, s.changed, s.unreachable, s.failures, s.skipped, s.rescued, s.ignored],
    ]),
  );
}

/** One host's run of the first play compared: the same tasks in the same order and statuses, the same recap. */
export function assertSameAsAnsible(events: RunEvent[], ansible: AnsibleJson, host: string): void {
  assert.ok(ansible.stats[host], `ansible-playbook ran on ${host}`);
  assert.deepEqual(
    orchStatuses(events),
    ansibleStatuses(ansible, host),
    'same tasks, same order, same changed/ok/failed/skipped',
  );
  assert.deepEqual(
    orchRecap(events)[host],
    ansibleRecap(ansible)[host],
    'same recap: ok changed unreachable failed skipped rescued ignored',
  );
}

export function ansibleStatuses(out: AnsibleJson, host: string): [string, Status][] {
  // a task with no result for the host (a meta task such as clear_host_errors) is left out, as orch reports none
  return (out.plays[0]?.tasks ?? []).flatMap((t): [string, Status][] => {
    const h = t.hosts[host];
    if (!h) return [];
    return [[t.task.name, h.failed ? 'failed' : h.changed ? 'changed' : h.skipped ? 'skipped' : 'ok']];
  });
}

/* Runs on several hosts compared play by play, task by task, host by host (rows "play | task | host | status"). */

export type Row = string; // "play | task | host | status"

/** Hosts of one task in name order (each tool reports them as they finish); a host's loop items keep theirs. */
export function byHost(rows: Row[]): Row[] {
  const task = (r: Row) => r.split(' | ').slice(0, 2).join(' | ');
  const host = (r: Row) => r.split(' | ')[2] ?? '';
  const out: Row[] = [];
  for (let i = 0; i < rows.length;) {
    let j = i;
    while (j < rows.length && task(rows[j] as Row) === task(rows[i] as Row)) j++;
    out.push(...rows.slice(i, j).sort((a, b) => host(a).localeCompare(host(b))));
    i = j;
  }
  return out;
}

/** messages: a debug task's row ends with its message ("play | task | host | status | msg") */
export function orchRows(events: RunEvent[], messages = false): Row[] {
  const rows: Row[] = [];
  let play = '';
  const tasks = new Map<number, string>();
  for (const e of events) {
    if (e.type === 'play_start') play = e.name;
    // a role's task as Ansible names it: "role : name"
    else if (e.type === 'task_start') tasks.set(e.taskId, e.role ? `${e.role} : ${e.name}` : e.name);
    else if (e.type === 'host_result')
      rows.push(
        `${play} | ${tasks.get(e.taskId) ?? e.task} | ${e.host} | ${e.status === 'failed' && e.ignored ? 'failed' : e.status}` +
          (messages && e.module === 'debug' && e.status !== 'skipped' ? ` | ${e.msg ?? ''}` : ''),
      );
  }
  return rows;
}

function statusOf(r: AnsibleHostResult): string {
  return r.unreachable ? 'unreachable' : r.failed ? 'failed' : r.skipped ? 'skipped' : r.changed ? 'changed' : 'ok';
}

/** Ansible's json callback: a looped task's items are results[] of one host entry (orch reports each). */
export function ansibleRows(out: AnsibleJson, messages = false): Row[] {
  const rows: Row[] = [];
  for (const p of out.plays) {
    for (const t of p.tasks) {
      // a meta task has a result only where its condition skipped it (shown, not counted in the recap), as in orch
      for (const [host, r] of Object.entries(t.hosts)) {
        const debug = messages && /(^|\.)debug$/.test(r.action ?? '') && !r.skipped;
        for (const item of r.results ?? [r])
          rows.push(
            `${p.play.name} | ${t.task.name} | ${host} | ${statusOf(item)}${debug ? ` | ${item.msg ?? ''}` : ''}`,
          );
      }
    }
  }
  return rows;
}

/**
 * An unnamed include_tasks is "include_tasks" in Ansible and is named after its file in orch (`include_tasks
 * "x.yml"`); both, and "include_role : r" (the same in both), become the module's name, to compare the rest.
 */
export function unnamedIncludes(rows: Row[]): Row[] {
  return rows.map((r) => r.replace(/ \| (include_tasks|include_role)( : \w+| \{[^|]*\}| "[^|]*")? \| /, ' | $1 | '));
}
