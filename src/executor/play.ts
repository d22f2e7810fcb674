import pLimit from 'p-limit';
import { ParseError } from '../core/errors.js';
import { emptyStats } from '../core/events.js';
import { findModule } from '../modules/registry.js';
import type { ModuleResult } from '../core/result.js';
import { selectHosts } from '../inventory/pattern.js';
import { inShard } from '../inventory/shard.js';
import type { Block, Item, Play, Task } from '../playbook/model.js';
import { renderValue } from '../template/env.js';
import { loadYamlFile } from '../yaml/load.js';
import { VarScope } from '../template/scope.js';
import { resolve } from 'node:path';
import { pendingKey } from './pending-handlers.js';
import { keepsSnapshots, MAX_WINDOW, prefetchWindow, settleAfterTask, type PrefetchCache } from './prefetch.js';
import { buildScope, scopeContext, type PlayVars } from './scope.js';
import { HostState, type RunState } from './state.js';
import { displayName, prefetchQueries, runTaskOnHost } from './task.js';
import { selectedByTags } from './tags.js';
import type { PlayContext } from './play-context.js';
import { checkPlayKeywords, batches, renderSerial, serialStop, orderHosts } from './batches.js';
import { gatherPlayFacts } from './play-facts.js';
import { runBlock } from './blocks.js';
import { runMeta } from './meta.js';
import { runInclude } from './includes.js';
import { flushHandlers, restorePending } from './handlers.js';

/** One play's run: batches, sections, items, tasks (the other parts in the files PlayContext names). */
class PlayRun implements PlayContext {
  aborted = false;
  pv!: PlayVars;
  readonly includeCache = new Map<string, Item[]>();
  readonly published = new Set<Block>();
  private dynamicIds = 1_000_000_000;
  readonly hadPending = new Set<string>();
  readonly pendingRead = new Map<string, string[]>();
  readonly key: string;

  constructor(
    readonly rs: RunState,
    readonly play: Play,
  ) {
    this.key = pendingKey(play);
  }

  nextDynamicId(): number {
    return ++this.dynamicIds;
  }

  active(hosts: string[]): string[] {
    return hosts.filter((h) => this.rs.hosts.get(h)?.active);
  }

  get stopping(): boolean {
    return this.aborted || this.rs.stopping.signal !== undefined;
  }

  async run(): Promise<void> {
    const { rs, play } = this;
    // `hosts:` and `serial:` may use play vars and extra vars (e.g. "{{ target | default('web') }}").
    const playScope = new VarScope(
      [
        { name: 'play vars', vars: play.vars, templated: true },
        { name: 'extra vars', vars: rs.opts.extraVars, templated: true },
      ],
      (v, sc) => renderValue(v, sc),
      scopeContext(rs),
    );
    const pattern = String(renderValue(play.hosts, playScope));
    const serial = renderSerial(play.serial, playScope, play.pos);
    // as Ansible: a term that matches nothing (a group that group_by never made) is a warning
    let hosts = selectPlayHosts(rs, pattern, 'pattern of play', (term) =>
      rs.emit({ type: 'warning', msg: `Could not match supplied host pattern, ignoring: ${term}` }),
    );
    if (rs.opts.limit) {
      const limited = new Set(selectPlayHosts(rs, rs.opts.limit, '--limit'));
      hosts = hosts.filter((h) => limited.has(h));
    }
    hosts = inShard(hosts, rs.opts.shard);
    // end_host and end_batch end a host's play, not its run (as Ansible: the next play runs on it)
    for (const hs of rs.hosts.values()) hs.ended = false;
    hosts = orderHosts(this.active(hosts), String(renderValue(play.order ?? 'inventory', playScope)), play);
    checkPlayKeywords(this, String(renderValue(play.strategy, playScope)));
    rs.emit({ type: 'play_start', name: play.name, hosts });
    // a snapshot never outlives its play (orch itself writes to hosts between plays: pending handlers)
    for (const c of this.snapshots()) c.drop();
    if (hosts.length === 0) {
      rs.emit({ type: 'warning', msg: `play '${play.name}': no hosts left to run on` });
      return;
    }
    const filesVars: Record<string, unknown> = {};
    for (const f of play.varsFiles) {
      const path = resolve(play.dir, String(renderValue(f, buildScope(rs, hosts[0] as string, undefined, undefined))));
      const data = loadYamlFile(path, rs.secrets);
      if (data !== null && (typeof data !== 'object' || Array.isArray(data)))
        throw new ParseError('vars_files entries must be mappings', { file: path, line: 1 });
      Object.assign(filesVars, data);
    }
    const all = batches(hosts, serial);
    for (let b = 0; b < all.length && !this.stopping; b++) {
      const batch = all[b] as string[];
      if (all.length > 1) rs.emit({ type: 'batch_start', index: b + 1, total: all.length, hosts: batch });
      this.pv = { play, filesVars, playHosts: hosts, batch };
      if (play.gatherFacts) await gatherPlayFacts(this, batch);
      if (play.handlers.length > 0) await restorePending(this, batch);
      for (const section of play.sections) {
        if (this.stopping) break;
        await this.runItems(section, this.active(batch));
        await flushHandlers(this, batch);
      }
      // a host ended by end_host/end_batch did not fail: it counts neither for max_fail_percentage nor for a
      // batch that failed as a whole
      const failed = batch.filter((h) => rs.hosts.get(h)?.failed || rs.hosts.get(h)?.unreachable).length;
      const why = serialStop(failed, batch.length, play.maxFailPercentage, all.length > 1 && b < all.length - 1);
      if (why) {
        rs.emit({ type: 'warning', msg: `${why}: stopping the play` });
        this.aborted = true;
      }
    }
  }

  /** Runs items on hosts; returns the hosts that failed here (and were not rescued). */
  async runItems(items: Item[], hosts: string[]): Promise<Set<string>> {
    const failed = new Set<string>();
    for (const [i, item] of items.entries()) {
      const active = this.active(hosts);
      if (active.length === 0 || this.stopping) break;
      let f: Set<string>;
      if (item.kind === 'block') f = await runBlock(this, item, active);
      else if (item.kind !== 'task') f = await runInclude(this, item, active);
      else {
        await this.prefetch(items, i, active);
        // what a write of this task may fetch behind it (task.ts, speculate)
        const ahead = prefetchWindow(
          items,
          i + 1,
          (t) => selectedByTags(t.tags, this.rs.opts.tags, this.rs.opts.skipTags),
          MAX_WINDOW,
        );
        for (const h of active) {
          const c = this.rs.hosts.get(h)?.prefetch;
          if (c) c.ahead = ahead;
        }
        f = await this.runTask(item, active);
      }
      for (const h of f) failed.add(h);
    }
    return failed;
  }

  /**
   * Fetch ahead, in one round trip per host, the read-only queries of this task and the tasks that
   * follow it in the same list, up to the first that is not a plain query (see prefetch.ts). Hosts that
   * already have them are left alone.
   */
  private async prefetch(items: Item[], from: number, hosts: string[]): Promise<void> {
    const { rs } = this;
    if (rs.stopping.signal) return;
    const window = prefetchWindow(
      items,
      from,
      (t) => selectedByTags(t.tags, rs.opts.tags, rs.opts.skipTags),
      MAX_WINDOW,
    );
    const first = window[0];
    if (!first) return;
    await Promise.all(
      hosts.map((h) => {
        const c = rs.hosts.get(h)?.prefetch;
        const tasks = window.slice(0, c?.size);
        // one query alone saves no round trip
        if (!c || c.covers(first.id) || tasks.length < 2) return undefined;
        return rs.limit(() => prefetchQueries(rs, this.pv, tasks, h).catch(() => undefined));
      }),
    );
  }

  async runTask(task: Task, hostsIn: string[], handler = false): Promise<Set<string>> {
    const { rs } = this;
    if (!handler && !selectedByTags(task.tags, rs.opts.tags, rs.opts.skipTags)) return new Set();
    if (task.module === 'meta') {
      settleAfterTask(this.snapshots(), task, !keepsSnapshots(task));
      return runMeta(this, task, hostsIn);
    }
    // run_once, and add_host (Ansible's BYPASS_HOST_LOOP): the first host only
    const hosts = task.run_once || findModule(task.module)?.bypassHostLoop ? hostsIn.slice(0, 1) : hostsIn;
    const title = hosts[0] ? displayName(task.name, buildScope(rs, hosts[0], this.pv, task)) : task.name;
    rs.emit({
      type: 'task_start',
      taskId: task.id,
      name: title,
      role: task.role?.name,
      hosts,
      handler,
      module: task.module,
      file: task.pos.file,
      line: task.pos.line,
    });
    const throttle =
      hosts[0] !== undefined && task.throttle !== undefined
        ? Number(renderValue(task.throttle, buildScope(rs, hosts[0], this.pv, task)))
        : 0;
    if (!Number.isInteger(throttle) || throttle < 0)
      throw new ParseError(`throttle: expected a whole number, got ${JSON.stringify(task.throttle)}`, task.pos);
    // throttle: fewer hosts at once than forks for this task (taken before a fork slot, so none is held idle)
    const slot = pLimit(throttle > 0 ? throttle : Math.max(1, hosts.length));
    const outcomes = await Promise.all(
      hosts.map((h) => slot(() => rs.limit(() => runTaskOnHost(rs, this.pv, task, h)))),
    );
    const error = outcomes.find((o) => o.error)?.error;
    if (error) throw error;
    settleAfterTask(
      this.snapshots(),
      task,
      outcomes.some((o) => o.status !== 'skipped'),
    );
    const failed = new Set<string>();
    outcomes.forEach((o, i) => {
      const host = hosts[i] as string;
      const hs = rs.hosts.get(host);
      if (!hs) return;
      if (o.status === 'unreachable' && !o.ignored) {
        hs.unreachable = true;
        rs.pool.drop(host);
        failed.add(host);
      } else if (o.status === 'failed' && !o.ignored) {
        hs.failed = true;
        hs.setVars({ ansible_failed_task: { name: task.name, action: task.module }, ansible_failed_result: o.result });
        failed.add(host);
      }
    });
    if (task.run_once && task.register && outcomes[0]) {
      for (const h of hostsIn.slice(1)) {
        const hs = rs.hosts.get(h);
        hs?.setVars({ [task.register]: outcomes[0].result satisfies ModuleResult });
      }
    }
    if (failed.size > 0 && (task.any_errors_fatal || this.play.anyErrorsFatal)) {
      rs.emit({
        type: 'warning',
        msg: `any_errors_fatal: '${task.name}' failed on ${[...failed].join(', ')}; stopping every host`,
      });
      for (const h of this.pv.batch) {
        const hs = rs.hosts.get(h);
        if (hs?.active) {
          hs.failed = true;
          failed.add(h);
        }
      }
    }
    return failed;
  }

  /** Every host's queries fetched ahead (a task may change any host, not only its own). */
  private snapshots(): PrefetchCache[] {
    return [...this.rs.hosts.values()].map((hs) => hs.prefetch);
  }
}

export async function runPlay(rs: RunState, play: Play): Promise<void> {
  await new PlayRun(rs, play).run();
}

/**
 * The hosts a pattern selects; as Ansible, `localhost` (or 127.0.0.1) named while the inventory has no such host
 * is an implicit host of its own: a local connection (executor/scope.ts connectionWithoutVariable), the `all`
 * group's variables, in no group (so not in `all`, and `groups` does not show it).
 */
function selectPlayHosts(rs: RunState, pattern: string, what: string, onNoMatch?: (term: string) => void): string[] {
  const hosts = selectHosts(rs.inv, pattern, what, onNoMatch, true);
  for (const h of hosts) if (!rs.hosts.has(h)) rs.hosts.set(h, new HostState(h, emptyStats()));
  return hosts;
}
