import { findModule } from '../modules/registry.js';
import { validateParams } from '../modules/spec.js';
import { type ModuleContext } from '../modules/types.js';
import type { Task } from '../playbook/model.js';
import { evalCondition } from '../template/env.js';
import type { VarScope } from '../template/scope.js';
import type { BecomeSettings, Transport } from '../transport/types.js';
import { expandLoop } from './loop.js';
import { batchScript, groupByBecome, parseBatch, windowRole, type QueryCommand } from './prefetch.js';
import { buildScope, type PlayVars } from './scope.js';
import type { HostState, RunState } from './state.js';
import {
  execSettings,
  moduleContext,
  renderParams,
  sameConnectionAsPlay,
  withModuleDefaults,
} from './task-settings.js';
import { loopScope } from './loop.js';

/* The read-only queries of tasks, recorded without running them, fetched ahead in one round trip. */

/** Stops a module's query at its first command. Not an Error: caught at once, so no stack trace to capture. */
class Recorded {
  constructor(readonly query: QueryCommand) {}
}

/**
 * The first read-only command this task would run on this host (its module's query; for a loop, each
 * item's, in order), without running anything; none when that cannot be known now (delegation, a loop or
 * condition that depends on what earlier tasks register...).
 */
export async function recordQuery(rs: RunState, pv: PlayVars, task: Task, host: string): Promise<QueryCommand[]> {
  // a first run records a task's queries twice: in its window, then again behind the write before it
  const hs = rs.hosts.get(host);
  const version = `${hs?.varsVersion}:${rs.inv.version}`;
  const kept = hs?.recorded.get(task.id);
  if (kept && kept.play === pv && kept.version === version) return kept.queries;
  const queries = await recordQueryNow(rs, pv, task, host);
  hs?.recorded.set(task.id, { play: pv, version, queries });
  return queries;
}

async function recordQueryNow(rs: RunState, pv: PlayVars, task: Task, host: string): Promise<QueryCommand[]> {
  const mod = findModule(task.module);
  // a task that is not a plain query asks the host itself, when it runs (prefetch.ts)
  if (!mod?.query || windowRole(task) !== 'query' || !sameConnectionAsPlay(task, pv)) return [];
  let scopes: VarScope[];
  try {
    const scope = buildScope(rs, host, pv, task);
    // a loop: each item's query, in the order the items run (an item whose query is unknown ends the list)
    if (!task.loop) scopes = [scope];
    else {
      const items = expandLoop(task.loop, scope);
      scopes = items.map((item, i) => loopScope(task, scope, items, i));
    }
  } catch {
    return [];
  }
  const out: QueryCommand[] = [];
  for (const s of scopes) {
    let skipped: boolean;
    try {
      skipped = task.when.length > 0 && !evalCondition(task.when, s);
    } catch {
      break;
    }
    if (skipped) continue; // a skipped item sends nothing
    const q = await recordOne(rs, pv, task, host, s);
    if (!q) break;
    out.push(q);
  }
  return out;
}

export async function recordOne(
  rs: RunState,
  pv: PlayVars,
  task: Task,
  host: string,
  scope: VarScope,
): Promise<QueryCommand | undefined> {
  const mod = findModule(task.module);
  if (!mod?.query) return undefined;
  try {
    const x = execSettings(rs, pv, task, scope);
    const params = validateParams(mod.name, mod.spec, renderParams(mod, withModuleDefaults(task, mod), scope));
    const record: ModuleContext['run'] = (command, o = {}) => {
      throw new Recorded({
        command,
        opts: { ...o, become: x.become, env: x.env, timeoutMs: o.timeoutMs ?? x.timeoutMs },
      });
    };
    await mod.query(moduleContext(rs, host, task, scope, record), params);
  } catch (err) {
    if (err instanceof Recorded) return err.query;
  }
  return undefined;
}

/** Record the queries of these tasks on a host and run them in one round trip per sudo user. */
export async function prefetchQueries(rs: RunState, pv: PlayVars, tasks: Task[], host: string): Promise<void> {
  const hs = rs.hosts.get(host);
  if (!hs || !hs.active) return;
  hs.prefetch.cover(tasks.map((t) => t.id));
  const queries: QueryCommand[] = [];
  for (const t of tasks) queries.push(...(await recordQuery(rs, pv, t, host)));
  if (queries.length < 2) return; // one query: no round trip to save
  const t = await rs.pool.get(host, buildScope(rs, host, pv, undefined));
  if (t.pipelines) {
    // every user's runner up first, then all sent back to back: one round trip, and no wrapper script on the host
    const users = new Map(queries.map((q) => [`${q.opts.become?.method ?? ''}:${q.opts.become?.user ?? ''}`, q.opts]));
    await Promise.all([...users.values()].map((o) => t.prepare?.(o)));
    const answers = await Promise.all(queries.map((q) => t.exec(q.command, q.opts)));
    answers.forEach((a, i) => hs.prefetch.store(queries[i] as QueryCommand, a));
    return;
  }
  // one script per sudo user has no stdin of its own for each query: those are asked when their task runs
  for (const g of groupByBecome(queries.filter((q) => !q.opts.stdin))) {
    if (hs.prefetch.refused(pv.play, g.become)) continue;
    const r = await t.exec(batchScript(g.queries), { become: g.become });
    if (r.rc !== 0) {
      // e.g. sudo refused: the tasks run their queries themselves and report it; no new batch as this user
      // in this play (each would cost a round trip more per task)
      hs.prefetch.refuse(pv.play, g.become);
      continue;
    }
    const answers = parseBatch(r.stdout);
    g.queries.forEach((q, i) => {
      const a = answers.get(i);
      if (a) hs.prefetch.store(q, a);
    });
  }
}

/**
 * Right behind a write of a module that only writes its own host, on the same runner: the queries of
 * the tasks after this one (as that user), answered by the host after the write, as one round trip
 * with it. Kept as answers on their way; if the task sends anything after, they go (PrefetchCache.sent)
 * and the next task fetches as usual. A task whose query is for another user ends what is fetched.
 */
export async function speculate(
  rs: RunState,
  pv: PlayVars,
  hs: HostState,
  t: Transport,
  become: BecomeSettings | undefined,
): Promise<void> {
  const c = hs.prefetch;
  // after a task that changed the host too (a first run), the next one most likely changes it again: what is
  // fetched for the tasks after it would be thrown away, so only its own queries ride behind this write
  const tasks = c.ahead.slice(0, c.touchedBefore ? 1 : c.size);
  const covered: number[] = [];
  const queries: QueryCommand[] = [];
  for (const task of tasks) {
    if (covered.length > 0 && findModule(task.module)?.queryStartsProcesses) break;
    const qs = await recordQuery(rs, pv, task, hs.name);
    if (qs.some((q) => q.opts.become?.user !== become?.user || q.opts.become?.method !== become?.method)) break;
    covered.push(task.id);
    queries.push(...qs);
  }
  if (queries.length === 0) return;
  c.cover(covered);
  for (const q of queries)
    c.store(
      q,
      t.exec(q.command, q.opts).catch(() => undefined),
    );
}
