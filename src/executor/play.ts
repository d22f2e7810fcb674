import pLimit from 'p-limit';
import { NotImplementedError, ParseError } from '../core/errors.js';
import { ModuleFailure } from '../modules/types.js';
import { findModule } from '../modules/registry.js';
import { LINEAR_COMPATIBLE_STRATEGIES } from '../playbook/keywords.js';
import type { ModuleResult } from '../core/result.js';
import { gatherFacts, SUBSET_NAMES, type GatherOptions } from '../facts/gather.js';
import { selectHosts } from '../inventory/pattern.js';
import { inShard } from '../inventory/shard.js';
import type { Block, DynamicInclude, Item, Play, Task } from '../playbook/model.js';
import { RoleLoader } from '../playbook/roles.js';
import { loadTasksFile, resolveTasksFile, type LoadContext } from '../playbook/tasks.js';
import { evalCondition, renderValue } from '../template/env.js';
import { UnknownValueError } from '../template/unknown.js';
import { unlessUnknown } from './plan.js';
import { loadYamlFile } from '../yaml/load.js';
import { VarScope } from '../template/scope.js';
import { resolve } from 'node:path';
import { expandLoop } from './loop.js';
import { clearPending, loadPending, pendingKey, savePending } from './pending-handlers.js';
import { keepsSnapshots, MAX_WINDOW, prefetchWindow, settleAfterTask, type PrefetchCache } from './prefetch.js';
import { buildScope, type PlayVars } from './scope.js';
import type { RunState } from './state.js';
import { displayName, prefetchQueries, runTaskOnHost } from './task.js';
import { selectedByTags } from './tags.js';

/** serial values after templating: numbers or percentages. */
function renderSerial(serial: (number | string)[], scope: VarScope, pos: Play['pos']): (number | string)[] {
  return serial.map((x) => {
    const v = renderValue(x, scope);
    if (typeof v === 'number' || (typeof v === 'string' && /^\d+%?$/.test(v.trim())))
      return typeof v === 'string' && !v.includes('%') ? Number(v) : v;
    throw new ParseError(`serial: '${String(v)}' is not a number or a percentage`, pos);
  });
}

/** Why a serial run stops after a batch (max_fail_percentage exceeded, or every host of it failed), if it does. */
export function serialStop(
  failed: number,
  size: number,
  maxFailPercentage: number | undefined,
  more: boolean,
): string | undefined {
  if (maxFailPercentage !== undefined && (failed * 100) / size > maxFailPercentage)
    return `max_fail_percentage ${maxFailPercentage}% exceeded (${failed} of ${size} hosts failed)`;
  if (failed === size && more) return 'every host of this batch failed';
  return undefined;
}

/** Split the play's hosts into `serial` batches (numbers, percentages, or a list of them; the last repeats). */
export function batches(hosts: string[], serial: (number | string)[]): string[][] {
  if (serial.length === 0) return [hosts];
  const out: string[][] = [];
  let i = 0;
  let step = 0;
  while (i < hosts.length) {
    const s = serial[Math.min(step, serial.length - 1)] as number | string;
    const size = typeof s === 'string' ? Math.max(1, Math.floor((hosts.length * Number(s.replace('%', ''))) / 100)) : s;
    out.push(hosts.slice(i, i + size));
    i += size;
    step++;
  }
  return out;
}

class PlayRun {
  private aborted = false;
  private pv!: PlayVars;
  private readonly includeCache = new Map<string, Item[]>();
  /** ids of tasks loaded at run time (dynamic includes): far above the loader's, one per task */
  private dynamicIds = 1_000_000_000;
  /** hosts where handlers left pending by an earlier run were found (their file is removed once run) */
  private readonly hadPending = new Set<string>();
  /** pending handlers read along with the facts, per host (restorePending then needs no round trip) */
  private readonly pendingRead = new Map<string, string[]>();
  private readonly key: string;

  constructor(
    private readonly rs: RunState,
    private readonly play: Play,
  ) {
    this.key = pendingKey(play);
  }

  private active(hosts: string[]): string[] {
    return hosts.filter((h) => this.rs.hosts.get(h)?.active);
  }

  private get stopping(): boolean {
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
    );
    const pattern = String(renderValue(play.hosts, playScope));
    const serial = renderSerial(play.serial, playScope, play.pos);
    // as Ansible: a term that matches nothing (a group that group_by never made) is a warning; but Ansible
    // would run a play on an implicit localhost, which orch has not: better an error than a silent skip
    let hosts = selectHosts(rs.inv, pattern, 'pattern of play', (term) => {
      if (term === 'localhost' || term === '127.0.0.1')
        throw new NotImplementedError(
          `play '${play.name}': '${term}' is not in the inventory (orch has no implicit localhost)`,
          { hint: 'Add `localhost ansible_connection=local` to the inventory.' },
        );
      rs.emit({ type: 'warning', msg: `Could not match supplied host pattern, ignoring: ${term}` });
    });
    if (rs.opts.limit) {
      const limited = new Set(selectHosts(rs.inv, rs.opts.limit, '--limit'));
      hosts = hosts.filter((h) => limited.has(h));
    }
    hosts = inShard(hosts, rs.opts.shard);
    hosts = orderHosts(this.active(hosts), String(renderValue(play.order ?? 'inventory', playScope)), play);
    this.checkKeywords(String(renderValue(play.strategy, playScope)));
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
      const data = loadYamlFile(path);
      if (data !== null && (typeof data !== 'object' || Array.isArray(data)))
        throw new ParseError('vars_files entries must be mappings', { file: path, line: 1 });
      Object.assign(filesVars, data);
    }
    const all = batches(hosts, serial);
    for (let b = 0; b < all.length && !this.stopping; b++) {
      const batch = all[b] as string[];
      if (all.length > 1) rs.emit({ type: 'batch_start', index: b + 1, total: all.length, hosts: batch });
      this.pv = { play, filesVars, playHosts: hosts, batch };
      if (play.gatherFacts) await this.gather(batch);
      if (play.handlers.length > 0) await this.restorePending(batch);
      for (const section of play.sections) {
        if (this.stopping) break;
        await this.runItems(section, this.active(batch));
        await this.flushHandlers(batch);
      }
      const failed = batch.filter((h) => !rs.hosts.get(h)?.active).length;
      const why = serialStop(failed, batch.length, play.maxFailPercentage, all.length > 1 && b < all.length - 1);
      if (why) {
        rs.emit({ type: 'warning', msg: `${why}: stopping the play` });
        this.aborted = true;
      }
    }
  }

  /** Play keywords orch does not implement fail the play here, when it is reached (not at load). */
  private checkKeywords(strategy: string): void {
    const { play, rs } = this;
    const kw = play.notImplemented[0];
    if (kw !== undefined)
      throw new NotImplementedError(
        `play '${play.name}' at ${play.pos.file}:${play.pos.line ?? '?'}: keyword '${kw}' is not implemented by orch`,
      );
    if (strategy === 'linear' || strategy === 'ansible.builtin.linear') return;
    const short = strategy.replace(/^ansible\.builtin\./, '');
    if (!LINEAR_COMPATIBLE_STRATEGIES.includes(short))
      throw new ParseError(`Invalid play strategy specified: ${strategy}`, play.pos, 'orch runs the linear strategy.');
    // free/host_pinned/debug/mitogen_*: every host runs the same tasks and ends in the same state; only the
    // interleaving differs (hosts wait for each other at each task), so linear is a safe stand-in.
    rs.emit({
      type: 'warning',
      msg: `play '${play.name}': strategy '${strategy}' runs as 'linear' in orch (same tasks and end state; hosts move from task to task together)`,
    });
  }

  private async gather(batch: string[]): Promise<void> {
    const { rs } = this;
    // every play reads facts again, as Ansible does: an earlier play may have changed what they say
    const todo = this.active(batch);
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
            gatherOpts = this.gatherOptions(host);
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
            const t = await rs.pool.get(host, buildScope(rs, host, this.pv, undefined));
            // pending handlers are asked together with the facts: the same round trip
            const pending = this.play.handlers.length > 0 ? loadPending(rs, host, this.key).catch(() => []) : undefined;
            // merged: facts a module set earlier (package_facts, getent) stay, as in Ansible's fact cache
            hs.facts = { ...hs.facts, ...(await gatherFacts(t, gatherOpts)) };
            if (pending) this.pendingRead.set(host, await pending);
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
  private gatherOptions(host: string): GatherOptions {
    const { play } = this;
    const scope = buildScope(this.rs, host, this.pv, undefined);
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

  /** Runs items on hosts; returns the hosts that failed here (and were not rescued). */
  private async runItems(items: Item[], hosts: string[]): Promise<Set<string>> {
    const failed = new Set<string>();
    for (const [i, item] of items.entries()) {
      const active = this.active(hosts);
      if (active.length === 0 || this.stopping) break;
      let f: Set<string>;
      if (item.kind === 'block') f = await this.runBlock(item, active);
      else if (item.kind !== 'task') f = await this.runInclude(item, active);
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

  /**
   * A block with `serial:` (orch's per-block serial) runs on one batch of hosts at a time, the rest of the
   * play keeps its parallelism; max_fail_percentage (or a whole batch failing) stops the play, as play serial.
   */
  private async runBlock(b: Block, hosts: string[]): Promise<Set<string>> {
    if (b.serial.length === 0 || hosts.length === 0) return this.runBlockOn(b, hosts);
    const scope = buildScope(this.rs, hosts[0] as string, this.pv, undefined);
    const groups = batches(hosts, renderSerial(b.serial, scope, b.pos));
    const failed = new Set<string>();
    for (const [i, group] of groups.entries()) {
      if (this.stopping) break;
      this.rs.emit({ type: 'batch_start', index: i + 1, total: groups.length, hosts: group, block: b.name });
      const f = await this.runBlockOn(b, this.active(group));
      for (const h of f) failed.add(h);
      const why = serialStop(f.size, group.length, b.maxFailPercentage, i < groups.length - 1);
      if (why) {
        this.rs.emit({ type: 'warning', msg: `block '${b.name}': ${why}: stopping the play` });
        this.aborted = true;
      }
    }
    return failed;
  }

  private async runBlockOn(b: Block, hosts: string[]): Promise<Set<string>> {
    const { rs } = this;
    const failedInBlock = await this.runItems(b.block, hosts);
    let stillFailed = new Set([...failedInBlock].filter((h) => !rs.hosts.get(h)?.unreachable));
    if (b.rescue.length > 0 && stillFailed.size > 0) {
      for (const h of stillFailed) {
        const hs = rs.hosts.get(h);
        if (!hs) continue;
        hs.failed = false;
        // as Ansible's recap: a rescued failure counts as rescued, not failed
        hs.stats.failed = Math.max(0, hs.stats.failed - 1);
        hs.stats.rescued++;
      }
      stillFailed = await this.runItems(b.rescue, [...stillFailed]);
    }
    if (b.always.length > 0) {
      const alwaysHosts = hosts.filter((h) => !rs.hosts.get(h)?.unreachable && !rs.hosts.get(h)?.ended);
      // always runs even for hosts that failed in block/rescue; they stay failed afterwards.
      const wasFailed = alwaysHosts.filter((h) => rs.hosts.get(h)?.failed);
      for (const h of wasFailed) (rs.hosts.get(h) as { failed: boolean }).failed = false;
      const f = await this.runItems(b.always, alwaysHosts);
      for (const h of wasFailed) (rs.hosts.get(h) as { failed: boolean }).failed = true;
      for (const h of f) stillFailed.add(h);
    }
    return stillFailed;
  }

  private async runTask(task: Task, hostsIn: string[], handler = false): Promise<Set<string>> {
    const { rs } = this;
    if (!handler && !selectedByTags(task.tags, rs.opts.tags, rs.opts.skipTags)) return new Set();
    if (task.module === 'meta') {
      settleAfterTask(this.snapshots(), task, !keepsSnapshots(task));
      return this.runMeta(task, hostsIn);
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
        hs.runtime.ansible_failed_task = { name: task.name, action: task.module };
        hs.runtime.ansible_failed_result = o.result;
        failed.add(host);
      }
    });
    if (task.run_once && task.register && outcomes[0]) {
      for (const h of hostsIn.slice(1)) {
        const hs = rs.hosts.get(h);
        if (hs) hs.runtime[task.register] = outcomes[0].result satisfies ModuleResult;
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

  private async runMeta(task: Task, hosts: string[]): Promise<Set<string>> {
    const action = String(task.args._raw_params);
    const applies = hosts.filter(
      (h) =>
        task.when.length === 0 ||
        unlessUnknown(this.rs, h, task, this.play, () =>
          evalCondition(task.when, buildScope(this.rs, h, this.pv, task)),
        ),
    );
    if (action === 'flush_handlers') await this.flushHandlers(this.pv.batch);
    else if (action === 'end_play') {
      if (applies.length > 0) this.aborted = true;
    } else if (action === 'end_host' || action === 'end_batch') {
      for (const h of action === 'end_batch' ? hosts : applies) {
        const hs = this.rs.hosts.get(h);
        if (hs) hs.ended = true;
      }
    } else if (action === 'clear_host_errors') {
      for (const hs of this.rs.hosts.values()) hs.failed = false;
    } else if (action === 'reset_connection') {
      for (const h of applies) this.rs.pool.drop(h);
    } else if (action === 'clear_facts') {
      for (const h of applies) {
        const hs = this.rs.hosts.get(h);
        if (hs) hs.facts = undefined;
      }
    } else if (action === 'refresh_inventory' && applies.length > 0) {
      throw new NotImplementedError(
        `meta: refresh_inventory is not implemented by orch (task at ${task.pos.file}:${task.pos.line ?? '?'})`,
      );
    }
    return new Set();
  }

  /** include_tasks chosen at run time: one file per host (and per loop item), run host group by host group. */
  /**
   * "included: FILE for HOST", as Ansible shows and counts it: an ok per file (per loop item); a false condition a
   * skip.
   */
  private reportIncluded(
    inc: DynamicInclude,
    plans: Map<string, { file: string; vars: Record<string, unknown> }[]>,
    unknown: Map<string, string>,
  ): void {
    const { rs } = this;
    rs.emit({
      type: 'task_start',
      taskId: inc.id,
      name: inc.name,
      hosts: [...plans.keys()],
      handler: false,
      module: 'include_tasks',
      file: inc.pos.file,
      line: inc.pos.line,
    });
    for (const [host, entries] of plans) {
      const st = rs.hosts.get(host)?.stats;
      if (!st) continue;
      const base = {
        type: 'host_result' as const,
        host,
        taskId: inc.id,
        task: inc.name,
        module: 'include_tasks',
        durationMs: 0,
      };
      const why = unknown.get(host);
      if (entries.length === 0 && (!inc.loop || why)) {
        st.skipped++;
        rs.emit({
          ...base,
          status: 'skipped',
          ...(why ? { msg: `unknown: ${why}`, plan: { status: 'unknown' as const, reason: why } } : {}),
        });
      }
      for (const e of entries) {
        st.ok++;
        rs.emit({ ...base, status: 'ok', msg: `included: ${e.file}` });
      }
    }
  }

  private async runInclude(inc: DynamicInclude, hosts: string[]): Promise<Set<string>> {
    const { rs } = this;
    const plans = new Map<string, { file: string; vars: Record<string, unknown> }[]>();
    /** plan/check: hosts whose include depends on a value the plan cannot know (executor/plan.ts) */
    const unknown = new Map<string, string>();
    for (const h of hosts) {
      const scope = buildScope(rs, h, this.pv, inc);
      const entries: { file: string; vars: Record<string, unknown> }[] = [];
      try {
        const items = inc.loop ? expandLoop(inc.loop, scope) : [undefined];
        items.forEach((item, i) => {
          const vars: Record<string, unknown> = inc.loop ? { [inc.loop_control?.loop_var ?? 'item']: item } : {};
          if (inc.loop_control?.index_var) vars[inc.loop_control.index_var] = i;
          const s = scope.with({ name: 'loop', vars, templated: false });
          if (inc.when.length > 0 && !evalCondition(inc.when, s)) return;
          entries.push({ file: resolveTasksFile(String(renderValue(inc.file, s)), inc), vars });
        });
      } catch (err) {
        if (!(err instanceof UnknownValueError)) throw err;
        unknown.set(h, err.reason);
        entries.length = 0;
      }
      plans.set(h, entries);
    }
    this.reportIncluded(inc, plans, unknown);
    const failed = new Set<string>();
    const rounds = Math.max(0, ...[...plans.values()].map((e) => e.length));
    for (let i = 0; i < rounds; i++) {
      const byFile = new Map<string, string[]>();
      for (const [h, entries] of plans) {
        const e = entries[i];
        if (e) byFile.set(e.file, [...(byFile.get(e.file) ?? []), h]);
      }
      for (const [file, group] of byFile) {
        let items = inc.preloaded ?? this.includeCache.get(file);
        if (!items) {
          items = this.loadIncluded(file, inc);
          this.includeCache.set(file, items);
        }
        // Loop variables of this round live in each host's runtime layer while the included tasks run.
        const saved = group.map((h) => {
          const hs = rs.hosts.get(h);
          const vars = plans.get(h)?.[i]?.vars ?? {};
          const before = Object.fromEntries(Object.keys(vars).map((k) => [k, hs?.runtime[k]]));
          if (hs) Object.assign(hs.runtime, vars);
          return { hs, before };
        });
        for (const h of await this.runItems(items, group)) failed.add(h);
        for (const { hs, before } of saved) {
          if (!hs) continue;
          for (const [k, v] of Object.entries(before)) {
            if (v === undefined) delete hs.runtime[k];
            else hs.runtime[k] = v;
          }
        }
      }
    }
    return failed;
  }

  /** An included tasks file, with the roles it includes (their handlers and defaults join the play's). */
  private loadIncluded(file: string, inc: DynamicInclude): Item[] {
    const { play } = this;
    const roles = new RoleLoader(play.rolePaths);
    const ctx: LoadContext = {
      file,
      stack: [inc.pos.file],
      nextId: () => ++this.dynamicIds,
      loadRole: (spec, inh, at) => roles.load(spec, inh, at, ctx),
    };
    const items = loadTasksFile(file, ctx, { ...inc, when: [] }, inc.pos);
    for (const h of roles.handlers) play.handlers.push(h);
    for (const [k, v] of Object.entries(roles.defaults)) if (!(k in play.roleDefaults)) play.roleDefaults[k] = v;
    return items;
  }

  private async flushHandlers(batch: string[]): Promise<void> {
    const { rs, play } = this;
    const notifiedAny = batch.some((h) => (rs.hosts.get(h)?.notified.size ?? 0) > 0);
    if (!notifiedAny) return;
    const ran: string[] = [];
    for (const handler of play.handlers) {
      const names = [
        handler.name,
        ...handler.listen,
        ...(handler.role ? [`${handler.role.name} : ${handler.name}`] : []),
      ];
      // force_handlers: a host that failed still runs what it notified (not an unreachable one)
      const eligible = play.forceHandlers ? batch.filter((h) => !rs.hosts.get(h)?.unreachable) : this.active(batch);
      const targets = eligible.filter((h) => names.some((n) => rs.hosts.get(h)?.notified.has(n)));
      if (targets.length === 0) continue;
      ran.push(handler.name);
      await this.runTask(handler, targets, true);
    }
    const known = new Set(
      play.handlers.flatMap((h) => [h.name, ...h.listen, ...(h.role ? [`${h.role.name} : ${h.name}`] : [])]),
    );
    await Promise.all(
      batch.map(async (h) => {
        const hs = rs.hosts.get(h);
        if (!hs) return;
        for (const n of hs.notified)
          if (!known.has(n))
            rs.emit({ type: 'warning', host: h, msg: `notified handler '${n}' does not exist in this play` });
        const left = [...hs.notified].filter((n) => known.has(n));
        hs.notified.clear();
        await this.keepOrClearPending(h, hs.active && !this.stopping ? [] : left);
      }),
    );
    if (ran.length > 0) rs.emit({ type: 'handler_flush', handlers: ran });
  }

  /** Handlers an earlier run notified here and never ran: notified again now. */
  private async restorePending(batch: string[]): Promise<void> {
    const { rs } = this;
    await Promise.all(
      this.active(batch).map((h) =>
        rs.limit(async () => {
          const names = this.pendingRead.get(h) ?? (await loadPending(rs, h, this.key).catch(() => []));
          this.pendingRead.delete(h);
          if (names.length === 0) return;
          this.hadPending.add(h);
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
  private async keepOrClearPending(host: string, left: string[]): Promise<void> {
    const hs = this.rs.hosts.get(host);
    if (!hs || hs.unreachable || this.rs.opts.check) return;
    try {
      if (left.length > 0) {
        await savePending(this.rs, host, this.key, left);
        this.hadPending.add(host);
        this.rs.emit({
          type: 'warning',
          host,
          msg: `handlers not run because the host failed or the run stopped: ${left.join(', ')}; kept on the host, they run at the next run of this play`,
        });
      } else if (this.hadPending.delete(host)) await clearPending(this.rs, host, this.key);
    } catch (err) {
      this.rs.emit({
        type: 'warning',
        host,
        msg: `could not keep pending handlers (${left.join(', ')}) on the host: ${(err as Error).message}`,
      });
    }
  }
}

/** The play's `order:` of hosts. */
export function orderHosts(hosts: string[], order: string, play: Play): string[] {
  switch (order) {
    case 'inventory':
      return hosts;
    case 'reverse_inventory':
      return [...hosts].reverse();
    case 'sorted':
      return [...hosts].sort();
    case 'reverse_sorted':
      return [...hosts].sort().reverse();
    case 'shuffle': {
      const out = [...hosts];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [out[i], out[j]] = [out[j] as string, out[i] as string];
      }
      return out;
    }
    default:
      throw new ParseError(
        `order: '${order}' is not one of inventory, reverse_inventory, sorted, reverse_sorted, shuffle`,
        play.pos,
      );
  }
}

export async function runPlay(rs: RunState, play: Play): Promise<void> {
  await new PlayRun(rs, play).run();
}
