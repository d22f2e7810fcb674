import { formatPosition } from '../core/errors.js';
import type { PlanMark } from '../core/events.js';
import type { ModuleResult } from '../core/result.js';
import { WOULD_RUN_MSG } from '../modules/command.js';
import { findModule } from '../modules/registry.js';
import type { Params } from '../modules/spec.js';
import type { Play, Task } from '../playbook/model.js';
import { renderValue } from '../template/env.js';
import type { VarScope } from '../template/scope.js';
import { Unknown, UnknownValueError } from '../template/unknown.js';
import { handlersReached } from './handler-names.js';
import type { PlayVars } from './scope.js';
import type { HostState, RunState } from './state.js';

/*
 * The plan engine (`orch plan`, and --check): check mode where what cannot be known is said to be unknown.
 * A command check mode does not run registers an Unknown; a task that reads one (in `when:`, its arguments,
 * a template) is reported unknown with the task it depends on, and the run goes on. `orch plan` also runs
 * commands declared read-only (`changed_when: false`) and treats a path an earlier task would write as unknown.
 */

const COMMANDS = new Set(['command', 'shell']);
/** Parameters naming a path on the host the task reads or writes. */
const PATH_PARAMS = ['path', 'dest', 'creates', 'removes'] as const;

export function taskRef(task: Task): string {
  return `'${task.name}' (${formatPosition({ file: task.pos.file, line: task.pos.line })})`;
}

function isFalse(v: unknown): boolean {
  return v === false || (typeof v === 'string' && /^\s*(false|no)\s*$/i.test(v));
}

/** `orch plan` runs a command whose task says it changes nothing (`changed_when: false`): a read-only query. */
export function runsInPlan(rs: RunState, task: Task): boolean {
  return rs.opts.plan === true && COMMANDS.has(findModule(task.module)?.name ?? '') && isFalse(task.changed_when);
}

/** A task stopped by an unknown value: skipped for the recap, unknown (with why) for the plan. */
export function unknownOutcome(err: unknown): ModuleResult | undefined {
  if (!(err instanceof UnknownValueError)) return undefined;
  const mark: PlanMark = { status: 'unknown', reason: err.reason };
  return { changed: false, skipped: true, msg: err.message, _plan: mark };
}

/** plan: a task reading or writing a path an earlier task would write cannot be planned from the host's state. */
export function guardWrites(rs: RunState, host: string, params: Params): void {
  const writes = rs.hosts.get(host)?.planWrites;
  if (!rs.opts.plan || !writes?.size) return;
  for (const key of PATH_PARAMS) {
    const p = params[key];
    if (typeof p !== 'string') continue;
    const writer = writes.get(normalize(p));
    if (writer) throw new UnknownValueError(`depends on ${writer}, which would change ${p}`);
  }
}

function normalize(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function wouldRun(r: ModuleResult): boolean {
  // skipped (no creates/removes) or changed (a guard that lets it run): either way Ansible's check mode did not run it
  return r.msg === WOULD_RUN_MSG && (r.skipped === true || r.changed === true);
}

/** What the plan says of a result beyond its status (undefined outside check mode, and for plain results). */
export function planMarkOf(rs: RunState, task: Task, r: ModuleResult): PlanMark | undefined {
  if (!rs.opts.check) return undefined;
  if (r._plan) return r._plan as PlanMark;
  const items = Array.isArray(r.results) ? (r.results as ModuleResult[]) : [];
  const unknownItem = items.find((i) => (i._plan as PlanMark | undefined)?.status === 'unknown');
  if (unknownItem) return unknownItem._plan as PlanMark;
  if (!wouldRun(r) && !items.some(wouldRun)) return undefined;
  if (task.changed_when !== undefined || task.failed_when !== undefined) {
    return {
      status: 'unknown',
      reason: `changed_when/failed_when read the result of a command the plan does not run: ${taskRef(task)}`,
    };
  }
  return { status: 'change', reason: 'the command would run' };
}

function paths(r: ModuleResult): string[] {
  const out: string[] = [];
  for (const d of r.diff ?? []) if (d.path.startsWith('/')) out.push(d.path);
  for (const k of ['path', 'dest'] as const)
    if (typeof r[k] === 'string' && String(r[k]).startsWith('/')) out.push(String(r[k]));
  for (const item of Array.isArray(r.results) ? (r.results as ModuleResult[]) : [])
    if (item.changed) out.push(...paths(item));
  return out;
}

/** A handler that only tasks of unknown outcome notified: its own outcome is unknown too. */
function handlerOutcome(rs: RunState, pv: PlayVars, hs: HostState, task: Task, result: ModuleResult): void {
  if (!pv.play.handlers.includes(task)) return;
  // the names that reach this handler (its name templated as Ansible does, its listen topics)
  const names = [...hs.planMaybeNotified.keys()].filter((n) => handlersReached(rs, pv, n).includes(task));
  const why = names.map((n) => hs.planMaybeNotified.get(n)).find((w) => w !== undefined);
  for (const n of names) hs.planMaybeNotified.delete(n);
  if (why && !result._plan && !result.failed) result._plan = { status: 'unknown', reason: why } satisfies PlanMark;
}

/** Modules that install or change packages: what later tasks query (services, files, commands) may not exist yet. */
const PACKAGE_MODULES = new Set([
  'apt',
  'package',
  'dnf',
  'yum',
  'pip',
  'apt_repository',
  'apt_key',
  'deb822_repository',
]);

/**
 * plan: once a task would install packages, a later failure against the host as it is now (a service that is
 * not there yet) is unknown, not an error; the plan goes on.
 */
function packagesFirst(hs: HostState, task: Task, result: ModuleResult): void {
  const name = findModule(task.module)?.name ?? task.module;
  if (PACKAGE_MODULES.has(name)) {
    if (result.changed && !result.failed) hs.planPackages ??= taskRef(task);
    return;
  }
  if (!result.failed || result.unreachable || !hs.planPackages) return;
  const reason = `depends on ${hs.planPackages}, which would install packages (on the host as it is now: ${String(result.msg)})`;
  Object.assign(result, { failed: false, skipped: true, _plan: { status: 'unknown', reason } satisfies PlanMark });
}

/**
 * After a task in check mode: what it registers or sets becomes Unknown when its result is not known, and
 * (plan) the paths it would change are remembered, as are the handlers a possible change would notify.
 */
export function markPlan(
  rs: RunState,
  hs: HostState,
  task: Task,
  result: ModuleResult,
  scope: VarScope,
  pv: PlayVars,
): void {
  const { play } = pv;
  if (!rs.opts.check) return;
  if (rs.opts.plan) packagesFirst(hs, task, result);
  const mayEnd = hs.planMayEnd?.play === play ? hs.planMayEnd.why : undefined;
  if (rs.opts.plan && mayEnd && result.changed && !result._plan)
    result._plan = { status: 'unknown', reason: `changes only if it runs: ${mayEnd}` } satisfies PlanMark;
  const mark = planMarkOf(rs, task, result);
  if (mark) {
    const unknown = new Unknown(
      mark.status === 'unknown' && mark.reason.startsWith('depends on ') ? mark.reason : `depends on ${taskRef(task)}`,
    );
    if (task.register) hs.setVars({ [task.register]: unknown });
    if (mark.status === 'unknown' && findModule(task.module)?.name === 'set_fact') {
      for (const key of Object.keys(task.args))
        if (key !== 'cacheable' && !key.includes('{{')) hs.setVars({ [key]: unknown });
    }
  }
  if (!rs.opts.plan) return;
  handlerOutcome(rs, pv, hs, task, result);
  const notified = task.notify.flatMap((n) => {
    try {
      return [String(renderValue(n, scope))];
    } catch {
      return []; // a handler name that cannot be templated now: not notified
    }
  });
  if (mark && !result.failed) {
    for (const n of notified) {
      // a command that would run notifies for certain; an unknown outcome only may
      if (mark.status === 'unknown' && !hs.notified.has(n))
        hs.planMaybeNotified.set(n, `notified by ${taskRef(task)}, whose outcome is unknown: ${mark.reason}`);
      hs.notified.add(n);
    }
  }
  if (result.changed && !result.failed) for (const n of notified) hs.planMaybeNotified.delete(n);
  if (result.changed && !result.failed) for (const p of paths(result)) hs.planWrites.set(normalize(p), taskRef(task));
}

const ENDS = new Set(['end_host', 'end_batch', 'end_play']);

/**
 * A condition the executor decides itself (meta's `when:`): over an unknown value it is reported unknown for
 * the host and taken as false (the plan goes on as if the host were not ended).
 */
export function unlessUnknown(rs: RunState, host: string, task: Task, play: Play, cond: () => boolean): boolean {
  try {
    return cond();
  } catch (err) {
    if (!(err instanceof UnknownValueError)) throw err;
    const hs = rs.hosts.get(host);
    if (hs && ENDS.has(String(task.args._raw_params)) && hs.planMayEnd?.play !== play)
      hs.planMayEnd = { play, why: `${taskRef(task)} may end the play here (${err.reason})` };
    rs.emit({
      type: 'host_result',
      host,
      taskId: task.id,
      task: task.name,
      module: task.module,
      status: 'skipped',
      msg: err.message,
      plan: { status: 'unknown', reason: err.reason },
      durationMs: 0,
    });
    return false;
  }
}
