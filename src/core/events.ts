import type { FileDiff, HostStatus } from './result.js';

/** `change`: a command that would run; `unknown`: depends on something the plan cannot know. */
export interface PlanMark {
  status: 'change' | 'unknown';
  reason: string;
}

/** Everything a run tells the outside world. The executor emits; the UI, the line reporter and NDJSON consume. */

export interface HostStats {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  rescued: number;
  ignored: number;
}

export type RunEvent =
  | {
      type: 'run_start';
      time: string;
      command: string;
      inventory: string;
      playbook: string;
      hosts: string[];
      check: boolean;
      user: string;
      shard?: { index: number; count: number };
      runId?: string;
    }
  | { type: 'play_start'; name: string; hosts: string[] }
  | { type: 'batch_start'; index: number; total: number; hosts: string[]; /** a block's own serial */ block?: string }
  | {
      type: 'task_start';
      taskId: number;
      name: string;
      role?: string;
      hosts: string[];
      handler: boolean;
      module: string;
      file?: string;
      line?: number;
    }
  | {
      type: 'host_result';
      host: string;
      taskId: number;
      task: string;
      module: string;
      status: HostStatus;
      item?: string;
      msg?: string;
      diff?: FileDiff[];
      stdout?: string;
      stderr?: string;
      rc?: number;
      ignored?: boolean;
      delegatedTo?: string;
      durationMs: number;
      hint?: string;
      /** file:line of the task, on failures */
      at?: string;
      /** plan and check mode: what the plan knows beyond the status (a change it cannot run, an unknown) */
      plan?: PlanMark;
    }
  | { type: 'retry'; host: string; taskId: number; task: string; attempt: number; retries: number }
  | { type: 'warning'; host?: string; msg: string }
  | { type: 'handler_flush'; handlers: string[] }
  | { type: 'interrupt'; signal: string; msg: string }
  /** the release each host runs at the end of a deploy, rollback or restart (read from the host) */
  | { type: 'releases'; releases: Record<string, string> }
  | { type: 'recap'; stats: Record<string, HostStats>; durationMs: number; roundTrips: Record<string, number> }
  | { type: 'run_end'; exitCode: number; durationMs: number; error?: string };

export type Emit = (e: RunEvent) => void;

/** The kinds of event, for maps that must name every one (`{ [K in RunEventType]: ... }`). */
export type RunEventType = RunEvent['type'];

/**
 * The `default:` of a switch over a RunEvent's type: it takes `never`, so a switch that forgets a kind does not
 * compile. At run time it does nothing (no such event can arrive from a compiled executor).
 */
export function unhandledEvent(e: never): void {
  void e;
}

export function emptyStats(): HostStats {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0 };
}
