import { unhandledEvent, type HostStats, type RunEvent } from '../core/events.js';
import { diffText, outputTail, releaseLines, resultLine } from './format.js';

/** The TUI's model: a pure reducer over RunEvents (tested without a terminal). */

export interface HostRow {
  name: string;
  task?: string;
  state: 'waiting' | 'running' | 'idle' | 'failed' | 'unreachable';
  ok: number;
  changed: number;
  failed: number;
}

export interface StaticLine {
  id: number;
  kind: 'play' | 'failure' | 'diff' | 'warning' | 'batch' | 'changed' | 'debug' | 'interrupt' | 'release' | 'unknown';
  text: string;
}

export interface TuiState {
  command: string;
  inventory: string;
  playbook: string;
  check: boolean;
  startedAt: number;
  play?: string;
  task?: string;
  batch?: string;
  hosts: Map<string, HostRow>;
  /** results received for the current task / hosts it runs on */
  taskDone: number;
  taskTotal: number;
  /** host-task results so far over the run */
  results: number;
  lines: StaticLine[];
  /** the id of the next static line */
  nextLineId: number;
  recap?: { stats: Record<string, HostStats>; durationMs: number };
  interrupted?: string;
  done: boolean;
}

export function initialState(command: string): TuiState {
  return {
    command,
    inventory: '',
    playbook: '',
    check: false,
    startedAt: Date.now(),
    hosts: new Map(),
    taskDone: 0,
    taskTotal: 0,
    results: 0,
    lines: [],
    nextLineId: 0,
    done: false,
  };
}

export function reduce(s: TuiState, e: RunEvent, verbose: number): TuiState {
  // A new array each time: Ink's <Static> memoises on the array's identity.
  const add = (kind: StaticLine['kind'], text: string) => (s.lines = [...s.lines, { id: s.nextLineId++, kind, text }]);
  const row = (h: string): HostRow => {
    let r = s.hosts.get(h);
    if (!r) {
      r = { name: h, state: 'waiting', ok: 0, changed: 0, failed: 0 };
      s.hosts.set(h, r);
    }
    return r;
  };
  switch (e.type) {
    case 'run_start':
      s.inventory = e.inventory;
      s.playbook = e.playbook;
      s.check = e.check;
      break;
    case 'play_start':
      s.play = e.name;
      add('play', `PLAY [${e.name}] ${e.hosts.length} hosts`);
      for (const h of e.hosts) row(h);
      break;
    case 'batch_start':
      s.batch = `${e.index}/${e.total}`;
      add('batch', `${e.block ? `block ${e.block}: ` : ''}batch ${e.index}/${e.total}: ${e.hosts.join(', ')}`);
      break;
    case 'task_start':
      s.task = `${e.handler ? 'handler ' : ''}${e.role ? `${e.role} : ` : ''}${e.name}`;
      s.taskDone = 0;
      s.taskTotal = e.hosts.length;
      for (const h of e.hosts) {
        const r = row(h);
        r.state = 'running';
        r.task = s.task;
      }
      break;
    case 'host_result': {
      const r = row(e.host);
      if (e.item === undefined) s.taskDone++;
      s.results++;
      if (e.status === 'changed') r.changed++;
      if (e.status === 'ok' || e.status === 'changed') r.ok++;
      if (e.status === 'failed' && !e.ignored) r.failed++;
      r.state = e.status === 'unreachable' ? 'unreachable' : e.status === 'failed' && !e.ignored ? 'failed' : 'idle';
      if (e.status === 'failed' || e.status === 'unreachable') {
        const detail = [
          resultLine(e),
          e.hint ? `  hint: ${e.hint}` : '',
          outputTail(e.stderr, 8).replace(/^(?=.)/gm, '  '),
        ]
          .filter((x) => x)
          .join('\n');
        add('failure', detail);
      } else if (e.status === 'changed' && verbose > 0) add('changed', resultLine(e));
      if (e.module === 'debug' && e.msg !== undefined) add('debug', resultLine(e));
      // plan and check mode: what cannot be known, and why
      else if (e.plan?.status === 'unknown') add('unknown', resultLine(e));
      const d = diffText(e);
      // `orch plan` prints every diff in its plan once the run is done
      if (d && !s.command.startsWith('plan ')) add('diff', `${e.host}: ${e.task}\n${d}`);
      break;
    }
    case 'warning':
      add('warning', `[WARNING]${e.host ? ` [${e.host}]` : ''} ${e.msg}`);
      break;
    case 'interrupt':
      s.interrupted = e.msg;
      add('interrupt', `${e.signal}: ${e.msg}`);
      break;
    case 'releases':
      add('release', `releases:\n${releaseLines(e.releases).join('\n')}`);
      break;
    case 'recap':
      s.recap = { stats: e.stats, durationMs: e.durationMs };
      break;
    case 'run_end':
      s.done = true;
      break;
    case 'retry':
    case 'handler_flush':
      break;
    default:
      unhandledEvent(e);
  }
  return s;
}
