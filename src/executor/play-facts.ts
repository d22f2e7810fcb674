import { ModuleFailure } from '../modules/types.js';
import { gatherFacts, SUBSET_NAMES, type GatherOptions } from '../facts/gather.js';
import { renderValue } from '../template/env.js';
import { loadPending } from './pending-handlers.js';
import { buildScope } from './scope.js';
import type { PlayContext } from './play-context.js';

/* Facts of a play's batch: gathered in one round trip per host, with the pending handlers read alongside. */

export async function gatherPlayFacts(pc: PlayContext, batch: string[]): Promise<void> {
  const { rs } = pc;
  // every play reads facts again, as Ansible does: an earlier play may have changed what they say
  const todo = pc.active(batch);
  if (todo.length === 0) return;
  const taskId = 0;
  rs.emit({ type: 'task_start', taskId, name: 'Gathering Facts', hosts: todo, handler: false, module: 'setup' });
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
          rs.emit({
            type: 'host_result',
            host,
            taskId,
            task: 'Gathering Facts',
            module: 'setup',
            status: 'failed',
            msg: (err as Error).message,
            durationMs: 0,
          });
          return;
        }
        try {
          const t = await rs.pool.get(host, buildScope(rs, host, pc.pv, undefined));
          // pending handlers are asked together with the facts: the same round trip
          const pending = pc.play.handlers.length > 0 ? loadPending(rs, host, pc.key).catch(() => []) : undefined;
          // merged: facts a module set earlier (package_facts, getent) stay, as in Ansible's fact cache
          hs.facts = { ...hs.facts, ...(await gatherFacts(t, gatherOpts)) };
          if (pending) pc.pendingRead.set(host, await pending);
          hs.stats.ok++;
          rs.emit({
            type: 'host_result',
            host,
            taskId,
            task: 'Gathering Facts',
            module: 'setup',
            status: 'ok',
            durationMs: Date.now() - started,
          });
        } catch (err) {
          hs.unreachable = true;
          hs.stats.unreachable++;
          const e = err as { message?: string; hint?: string };
          rs.emit({
            type: 'host_result',
            host,
            taskId,
            task: 'Gathering Facts',
            module: 'setup',
            status: 'unreachable',
            msg: e.message,
            hint: e.hint,
            durationMs: Date.now() - started,
          });
        }
      }),
    ),
  );
}

/** The play's gather_subset and fact_path, templated for the host. */
export function gatherOptions(pc: PlayContext, host: string): GatherOptions {
  const { play } = pc;
  const scope = buildScope(pc.rs, host, pc.pv, undefined);
  const raw = play.gatherSubset === undefined ? undefined : renderValue(play.gatherSubset, scope);
  const subset =
    raw === undefined ? undefined : (Array.isArray(raw) ? raw : String(raw).split(',')).map((s) => String(s).trim());
  const bad = subset?.find((s) => !SUBSET_NAMES.includes(s.replace(/^!/, '')));
  if (bad !== undefined)
    throw new ModuleFailure(
      `Bad subset '${bad}' given to Ansible. gather_subset options allowed: ${SUBSET_NAMES.join(', ')}`,
    );
  const factPath = play.factPath === undefined ? undefined : String(renderValue(play.factPath, scope));
  return { subset, factPath };
}
