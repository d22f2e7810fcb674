import { NotImplementedError } from '../core/errors.js';
import type { Task } from '../playbook/model.js';
import { evalCondition } from '../template/env.js';
import { unlessUnknown } from './plan.js';
import { buildScope } from './scope.js';
import type { PlayContext } from './play-context.js';
import { flushHandlers } from './handlers.js';
import { displayName } from './task-report.js';

/* meta: tasks the executor acts on (flush_handlers, end_play, end_host, clear_facts...). */

/** As Ansible: these ignore `when` (with a warning) and act on every host. */
const IGNORE_WHEN = ['noop', 'refresh_inventory', 'reset_connection'];

export async function runMeta(pc: PlayContext, task: Task, hosts: string[]): Promise<Set<string>> {
  const action = String(task.args._raw_params);
  const ignoresWhen = IGNORE_WHEN.includes(action);
  if (ignoresWhen && task.when.length > 0)
    pc.rs.emit({ type: 'warning', msg: `${action} task does not support when conditional` });
  const applies = hosts.filter(
    (h) =>
      ignoresWhen ||
      task.when.length === 0 ||
      unlessUnknown(pc.rs, h, task, pc.play, () => evalCondition(task.when, buildScope(pc.rs, h, pc.pv, task))),
  );
  reportSkipped(pc, task, ignoresWhen ? [] : hosts.filter((h) => !applies.includes(h)));
  // under a condition, only the hosts it holds for flush here (as Ansible); the others at the section's end
  if (action === 'flush_handlers') await flushHandlers(pc, task.when.length === 0 ? pc.pv.batch : applies);
  else if (action === 'end_host' || action === 'end_batch' || action === 'end_play') {
    // end_batch: when its condition holds on any host, every host of the batch ends (the next batch runs);
    // end_play also stops the play. As Ansible, an ended host runs no handler it notified.
    if (action === 'end_play' && applies.length > 0) pc.aborted = true;
    const ending = action === 'end_host' ? applies : applies.length > 0 ? hosts : [];
    for (const h of ending) {
      const hs = pc.rs.hosts.get(h);
      if (hs) hs.ended = true;
    }
  } else if (action === 'clear_host_errors' && applies.length > 0) {
    // as Ansible: only the hosts running an `always` after a failure in its block go on; a host whose failure
    // ended its play already (no always around it) does not come back
    for (const hs of pc.rs.hosts.values()) hs.failedBeforeAlways = false;
    // and the failures so far no longer fail the run (ansible-playbook exits 0; its recap keeps them): of this
    // batch's hosts and of hosts that failed before this play (which orch leaves out of the play's hosts, so
    // here whatever the play's pattern), not of the play's other serial batches
    const otherBatches = new Set(pc.pv.playHosts.filter((h) => !pc.pv.batch.includes(h)));
    for (const [h, hs] of pc.rs.hosts)
      if (!otherBatches.has(h)) {
        hs.failuresCleared = hs.stats.failed;
        hs.unreachableCleared = hs.stats.unreachable;
      }
    // a host of this batch that was unreachable is tried again from the next task on (Ansible forgets it too)
    for (const h of pc.pv.batch) {
      const hs = pc.rs.hosts.get(h);
      if (hs) hs.unreachable = false;
    }
  } else if (action === 'reset_connection') {
    for (const h of applies) pc.rs.pool.drop(h);
  } else if (action === 'clear_facts' && applies.length > 0) {
    // as Ansible: the facts of every host of the play (in this batch), not only of those the condition holds for
    for (const h of pc.pv.batch) {
      const hs = pc.rs.hosts.get(h);
      if (hs) hs.facts = undefined;
    }
  } else if (action === 'refresh_inventory' && applies.length > 0) {
    throw new NotImplementedError(
      `meta: refresh_inventory is not implemented by orch (task at ${task.pos.file}:${task.pos.line ?? '?'})`,
    );
  }
  return new Set();
}

/** A meta task its condition skips on a host: shown as Ansible's `skipping:`, but not counted in the recap. */
function reportSkipped(pc: PlayContext, task: Task, skipped: string[]): void {
  const [first] = skipped;
  if (first === undefined) return;
  const name = displayName(task.name, buildScope(pc.rs, first, pc.pv, task));
  pc.rs.emit({
    type: 'task_start',
    taskId: task.id,
    name,
    role: task.role?.name,
    hosts: skipped,
    handler: false,
    module: 'meta',
    file: task.pos.file,
    line: task.pos.line,
  });
  for (const host of skipped)
    pc.rs.emit({
      type: 'host_result',
      host,
      taskId: task.id,
      task: name,
      module: 'meta',
      status: 'skipped',
      durationMs: 0,
    });
}
