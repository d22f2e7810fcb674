import { PlayStoppedError, TemplateError } from '../core/errors.js';
import { suggest } from '../modules/spec.js';
import type { Task } from '../playbook/model.js';
import { renderValue } from '../template/env.js';
import type { VarScope } from '../template/scope.js';
import { UndefinedVariableError } from '../template/undefined.js';
import { allHandlerNames, handlersReached, shownName } from './handler-names.js';
import { clearPending, loadPending, savePending } from './pending-handlers.js';
import type { PlayContext } from './play-context.js';
import type { PlayVars } from './scope.js';
import type { RunState } from './state.js';

/* Handlers: flushed after each section, kept on the host when they could not run. */

/**
 * The names a task notifies, templated on the host before it runs (each loop item's with its item), as Ansible
 * templates the notify field: an undefined variable there fails the task (or the item), changed or not.
 */
export function notifyNames(task: Task, scope: VarScope): string[] {
  try {
    return task.notify.map((n) => String(renderValue(n, scope)));
  } catch (err) {
    if (!(err instanceof UndefinedVariableError)) throw err;
    throw new TemplateError(
      `The field 'notify' has an invalid value, which includes an undefined variable. The error was: ${err.message}`,
      { hint: err.hint },
    );
  }
}

/** The notified names no handler of the play answers to (by its templated name or a listen topic). */
export function unknownHandlers(rs: RunState, pv: PlayVars, names: string[]): string[] {
  return names.filter((n) => handlersReached(rs, pv, n).length === 0);
}

export function missingHandlerMessage(name: string): string {
  return `The requested handler '${name}' was not found in either the main handlers list nor in the listening handlers list`;
}

/**
 * As ansible-playbook 2.14 (error_on_missing_handler): a changed task that notifies a name no handler of the
 * play answers to stops the run, when it notifies (not at load: a task that never changes never notifies).
 */
export function missingHandlerError(name: string, rs: RunState, pv: PlayVars, task: Task): PlayStoppedError {
  const guess = suggest(name, allHandlerNames(rs, pv));
  return new PlayStoppedError(missingHandlerMessage(name), task.pos, guess ? `Did you mean '${guess}'?` : undefined);
}

export async function flushHandlers(pc: PlayContext, batch: string[]): Promise<void> {
  const { rs, play, pv } = pc;
  const notifiedAny = batch.some((h) => (rs.hosts.get(h)?.notified.size ?? 0) > 0);
  if (!notifiedAny) return;
  // per host, the handlers its notified names reach
  const reached = new Map(
    batch.map((h) => [h, new Set([...(rs.hosts.get(h)?.notified ?? [])].flatMap((n) => handlersReached(rs, pv, n)))]),
  );
  const ran: string[] = [];
  // a run stopping (signal, a play stopped by max_fail_percentage) starts no handler: they are kept (below)
  for (const handler of pc.stopping ? [] : play.handlers) {
    // force_handlers: a host that failed still runs what it notified (not an unreachable or ended one)
    const eligible = play.forceHandlers
      ? batch.filter((h) => !rs.hosts.get(h)?.unreachable && !rs.hosts.get(h)?.ended)
      : pc.active(batch);
    const targets = eligible.filter((h) => reached.get(h)?.has(handler));
    if (targets.length === 0) continue;
    ran.push(shownName(rs, pv, handler));
    await pc.runTask(handler, targets, true);
  }
  const known = (n: string) => handlersReached(rs, pv, n).length > 0;
  await Promise.all(
    batch.map(async (h) => {
      const hs = rs.hosts.get(h);
      if (!hs) return;
      // (names restored from an earlier run's pending handlers: the playbook may have changed since)
      for (const n of hs.notified)
        if (!known(n))
          rs.emit({ type: 'warning', host: h, msg: `notified handler '${n}' does not exist in this play` });
      const left = [...hs.notified].filter(known);
      hs.notified.clear();
      // a host ended by end_host/end_batch drops what it notified, as Ansible (a pending file stays as it was)
      if (hs.ended) return;
      await keepOrClearPending(pc, h, hs.active && !pc.stopping ? [] : left);
    }),
  );
  if (ran.length > 0) rs.emit({ type: 'handler_flush', handlers: ran });
}

/** Handlers an earlier run notified here and never ran: notified again now. */
export async function restorePending(pc: PlayContext, batch: string[]): Promise<void> {
  const { rs } = pc;
  await Promise.all(
    pc.active(batch).map((h) =>
      rs.limit(async () => {
        const names = pc.pendingRead.get(h) ?? (await loadPending(rs, h, pc.key).catch(() => []));
        pc.pendingRead.delete(h);
        if (names.length === 0) return;
        pc.hadPending.add(h);
        for (const n of names) rs.hosts.get(h)?.notified.add(n);
        rs.emit({
          type: 'warning',
          host: h,
          msg: `handlers notified by an earlier run that did not finish will run in this play: ${names.join(', ')}`,
        });
      }),
    ),
  );
}

/** After a flush: handlers that could not run (host failed, run interrupted) are stored on the host. */
export async function keepOrClearPending(pc: PlayContext, host: string, left: string[]): Promise<void> {
  const hs = pc.rs.hosts.get(host);
  if (!hs || hs.unreachable || pc.rs.opts.check) return;
  try {
    if (left.length > 0) {
      await savePending(pc.rs, host, pc.key, left);
      pc.hadPending.add(host);
      pc.rs.emit({
        type: 'warning',
        host,
        msg: `handlers not run because the host failed or the run stopped: ${left.join(', ')}; kept on the host, they run at the next run of this play`,
      });
    } else if (pc.hadPending.delete(host)) await clearPending(pc.rs, host, pc.key);
  } catch (err) {
    pc.rs.emit({
      type: 'warning',
      host,
      msg: `could not keep pending handlers (${left.join(', ')}) on the host: ${(err as Error).message}`,
    });
  }
}
