import { BecomeError } from '../core/errors.js';
import { ModuleFailure } from '../modules/types.js';
import { gatherFacts, type GatherOptions } from '../facts/gather.js';
import { badSubset, badSubsetMessage } from '../facts/subsets.js';
import { renderValue } from '../template/env.js';
import { loadPending } from './pending-handlers.js';
import { buildScope } from './scope.js';
import { becomeFor } from './task-settings.js';
import type { PlayContext } from './play-context.js';

/* Facts of a play's batch: gathered in one round trip per host, with the pending handlers read alongside. */

/** The Gathering Facts task's id in events (loaded tasks start at 1). */
const GATHER_ID = 0;

export async function gatherPlayFacts(pc: PlayContext, batch: string[]): Promise<void> {
  const { rs } = pc;
  // every play reads facts again, as Ansible does: an earlier play may have changed what they say
  const todo = pc.active(batch);
  if (todo.length === 0) return;
  rs.emit({
    type: 'task_start',
    taskId: GATHER_ID,
    name: 'Gathering Facts',
    hosts: todo,
    handler: false,
    module: 'setup',
  });
  await Promise.all(
    todo.map((host) =>
      rs.limit(async () => {
        const hs = rs.hosts.get(host);
        if (!hs) return;
        const started = Date.now();
        let gatherOpts: GatherOptions;
        try {
          gatherOpts = gatherOptions(pc, host);
        } catch (err) {
          hs.failed = true;
          hs.stats.failed++;
          gatherResult(pc, host, 'failed', undefined, { msg: (err as Error).message });
          return;
        }
        try {
          const scope = buildScope(rs, host, pc.pv, undefined);
          const t = await rs.pool.get(host, scope);
          const become = becomeFor({}, pc.pv, scope, rs);
          const withPending = pc.play.handlers.length > 0;
          // pending handlers (in the login user's home) are asked together with the facts (as the play's become
          // user): both runners up first, then both questions at once, the same round trip
          if (withPending && become) await Promise.all([t.prepare?.({ become }), t.prepare?.({})]);
          const pending = withPending ? loadPending(rs, host, pc.key).catch(() => []) : undefined;
          // merged: facts a module set earlier (package_facts, getent) stay, as in Ansible's fact cache
          hs.facts = { ...hs.facts, ...(await gatherFacts(t, gatherOpts, become)) };
          if (pending) pc.pendingRead.set(host, await pending);
          hs.stats.ok++;
          gatherResult(pc, host, 'ok', started);
        } catch (err) {
          const e = err as { message?: string; hint?: string };
          // sudo/su refused (the play's become): the task failed, as Ansible's setup does; the host answered
          if (err instanceof BecomeError) {
            hs.failed = true;
            hs.stats.failed++;
            return gatherResult(pc, host, 'failed', started, { msg: e.message, hint: e.hint });
          }
          hs.unreachable = true;
          hs.stats.unreachable++;
          gatherResult(pc, host, 'unreachable', started, { msg: e.message, hint: e.hint });
        }
      }),
    ),
  );
}

/** One host's Gathering Facts result (`started` undefined: it failed before asking the host). */
function gatherResult(
  pc: PlayContext,
  host: string,
  status: 'ok' | 'failed' | 'unreachable',
  started: number | undefined,
  about: { msg?: string; hint?: string } = {},
): void {
  pc.rs.emit({
    type: 'host_result',
    host,
    taskId: GATHER_ID,
    task: 'Gathering Facts',
    module: 'setup',
    status,
    ...about,
    durationMs: started === undefined ? 0 : Date.now() - started,
  });
}

/** The play's gather_subset and fact_path, templated for the host. */
export function gatherOptions(pc: PlayContext, host: string): GatherOptions {
  const { play } = pc;
  const scope = buildScope(pc.rs, host, pc.pv, undefined);
  const raw = play.gatherSubset === undefined ? undefined : renderValue(play.gatherSubset, scope);
  const subset =
    raw === undefined ? undefined : (Array.isArray(raw) ? raw : String(raw).split(',')).map((s) => String(s).trim());
  const bad = subset === undefined ? undefined : badSubset(subset);
  if (bad !== undefined) throw new ModuleFailure(badSubsetMessage(bad));
  const factPath = play.factPath === undefined ? undefined : String(renderValue(play.factPath, scope));
  return { subset, factPath };
}
