import {
  ConnectError,
  ModuleError,
  NotImplementedError,
  OrchError,
  errorMessage,
  formatPosition,
} from '../core/errors.js';
import { ARGS_TEMPLATE } from '../playbook/args.js';
import type { HostStatus, ModuleResult } from '../core/result.js';
import { statusOf, withDiffHeaders } from '../core/result.js';
import { findModule, resolveModuleName } from '../modules/registry.js';
import { UndefinedVariableError } from '../template/undefined.js';
import { validateParams } from '../modules/spec.js';
import { ModuleFailure, type Module, type ModuleContext } from '../modules/types.js';
import type { Task } from '../playbook/model.js';
import { evalCondition, evalExpression, renderText, renderValue } from '../template/env.js';
import { findLocalFile } from '../template/lookups.js';
import { pyRepr } from '../template/python.js';
import type { VarScope } from '../template/scope.js';
import { TIMEOUT_RC } from '../transport/wrap.js';
import type { BecomeSettings, ExecResult, Transport } from '../transport/types.js';
import { isLocal } from './connections.js';
import { inventoryEditor } from './dynamic-inventory.js';
import { expandLoop } from './loop.js';
import {
  batchScript,
  groupByBecome,
  parseBatch,
  windowRole,
  writesOwnHostOnly,
  type QueryCommand,
} from './prefetch.js';
import { guardWrites, markPlan, planMarkOf, runsInPlan, unknownOutcome } from './plan.js';
import { OMIT, becomeAs, buildScope, type PlayVars } from './scope.js';
import type { HostState, RunState } from './state.js';

export const NO_LOG_MSG =
  "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

export interface TaskOutcome {
  status: HostStatus;
  result: ModuleResult;
  ignored: boolean;
}

function bool(v: unknown, scope: VarScope): boolean {
  if (typeof v === 'boolean') return v;
  if (v === undefined || v === null) return false;
  const r = renderValue(v, scope);
  return r === true || ['yes', 'true', 'on', '1'].includes(String(r).toLowerCase());
}

function becomeFor(task: Task, pv: PlayVars, scope: VarScope, rs: RunState): BecomeSettings | undefined {
  const on =
    task.become ??
    pv.play.become ??
    (scope.has('ansible_become') ? bool(scope.get('ansible_become'), scope) : (rs.opts.become ?? false));
  if (!on) return undefined;
  const method = task.become_method ?? pv.play.becomeMethod;
  return becomeAs(
    String(renderValue(task.become_user ?? pv.play.becomeUser ?? scope.get('ansible_become_user') ?? 'root', scope)),
    scope,
    method === undefined ? undefined : String(renderValue(method, scope)),
  );
}

function environmentFor(task: Task, scope: VarScope): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of task.environment) {
    const rendered = renderValue(e, scope);
    if (rendered && typeof rendered === 'object') for (const [k, v] of Object.entries(rendered)) env[k] = String(v);
  }
  return env;
}

function renderParams(mod: Module, args: Record<string, unknown>, scope: VarScope): Record<string, unknown> {
  if (mod.noTemplate) return { ...args };
  const out: Record<string, unknown> = {};
  if (ARGS_TEMPLATE in args) {
    const { [ARGS_TEMPLATE]: template, ...rest } = args;
    const rendered = renderValue(template, scope);
    if (typeof rendered !== 'object' || rendered === null || Array.isArray(rendered))
      throw new ModuleError(`invalid or malformed argument: '${String(rendered)}'`); // Ansible's words
    args = { ...(rendered as Record<string, unknown>), ...rest };
  }
  for (const [k, v] of Object.entries(args)) {
    const r = mod.rawParams?.includes(k) ? v : renderValue(v, scope);
    if (r !== OMIT) out[k] = r;
  }
  return out;
}

/**
 * The task's arguments over its `module_defaults` (play, block, role, task; inner wins, the task's own
 * arguments win over all). Keys name a module short or fully qualified; action groups (`group/...`) are
 * not implemented: refused when reached.
 */
function withModuleDefaults(task: Task, mod: Module): Record<string, unknown> {
  if (!task.module_defaults?.length) return task.args;
  const merged: Record<string, unknown> = {};
  for (const layer of task.module_defaults) {
    for (const [name, defaults] of Object.entries(layer)) {
      if (name.startsWith('group/'))
        throw new NotImplementedError(`module_defaults: action group '${name}' is not implemented by orch`);
      if (resolveModuleName(name) !== mod.name || !defaults || typeof defaults !== 'object' || Array.isArray(defaults))
        continue;
      Object.assign(merged, defaults);
    }
  }
  return { ...merged, ...task.args };
}

/** Name the task's file:line and the host in a "not implemented by orch" failure. */
function notImplemented(err: unknown, task: Task, host: string): unknown {
  if (!(err instanceof NotImplementedError)) return err;
  return new NotImplementedError(`${err.message} (task '${task.name}' at ${formatPosition(task.pos)}, host ${host})`, {
    hint: err.hint,
  });
}

function failure(err: unknown): ModuleResult {
  const unknown = unknownOutcome(err);
  if (unknown) return unknown;
  if (err instanceof ConnectError) return { changed: false, unreachable: true, msg: err.message, hint: err.hint };
  if (err instanceof ModuleFailure) return { changed: false, ...err.extra, failed: true, msg: err.message };
  if (err instanceof OrchError) return { changed: false, failed: true, msg: err.message, hint: err.hint };
  return {
    changed: false,
    failed: true,
    msg: `internal error: ${errorMessage(err)}`,
    exception: err instanceof Error ? err.stack : undefined,
  };
}

interface ExecSettings {
  become: BecomeSettings | undefined;
  env: Record<string, string>;
  timeoutMs: number | undefined;
}

/** `async: N` with polling: the same result as waiting, within N seconds (Ansible fails the task after N). */
function asyncLimit(task: Task, scope: VarScope, timeoutMs: number | undefined): number | undefined {
  if (task.async === undefined) return timeoutMs;
  const ms = Number(renderValue(task.async, scope)) * 1000;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, timeoutMs ?? Infinity) : timeoutMs;
}

function execSettings(rs: RunState, pv: PlayVars, task: Task, scope: VarScope): ExecSettings {
  return {
    become: becomeFor(task, pv, scope, rs),
    env: environmentFor(task, scope),
    timeoutMs: asyncLimit(
      task,
      scope,
      task.timeout === undefined ? rs.opts.commandTimeoutMs : Number(renderValue(task.timeout, scope)) * 1000,
    ),
  };
}

function moduleContext(
  rs: RunState,
  host: string,
  task: Task,
  scope: VarScope,
  run: ModuleContext['run'],
): ModuleContext {
  return {
    host,
    check: task.check_mode === undefined ? rs.opts.check && !runsInPlan(rs, task) : bool(task.check_mode, scope),
    diff: rs.opts.diff || task.diff === true,
    verbosity: rs.opts.verbose,
    vars: scope,
    run,
    findLocal: (kind, name) =>
      findLocalFile(name, [...scope.lookupPaths.filter((p) => p.endsWith(`/${kind}`)), ...scope.lookupPaths]),
    render: (text, opts) => renderText(text, scope, {}, opts),
    evaluate: (expr) => evalExpression(expr, scope),
    warn: (msg) => rs.emit({ type: 'warning', host, msg }),
    probeConnection: () => rs.pool.probe(host, scope),
    inventory: inventoryEditor(rs, task.pos.file),
  };
}

/** The task runs over the connection the play's prefetch uses (no connection/remote_user of its own). */
function sameConnectionAsPlay(task: Task, pv: PlayVars): boolean {
  return (
    task.connection === pv.play.connection && task.remote_user === pv.play.remoteUser && task.port === pv.play.port
  );
}

class Recorded extends Error {
  constructor(readonly query: QueryCommand) {
    super('recorded');
  }
}

/**
 * The first read-only command this task would run on this host (its module's query; for a loop, each
 * item's, in order), without running anything; none when that cannot be known now (delegation, a loop or
 * condition that depends on what earlier tasks register...).
 */
export async function recordQuery(rs: RunState, pv: PlayVars, task: Task, host: string): Promise<QueryCommand[]> {
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

async function recordOne(
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
    const r = await t.exec(batchScript(g.queries), { become: g.become });
    if (r.rc !== 0) return; // e.g. sudo refused: the tasks will run their queries themselves and report it
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
async function speculate(
  rs: RunState,
  pv: PlayVars,
  hs: HostState,
  t: Transport,
  become: BecomeSettings | undefined,
): Promise<void> {
  const c = hs.prefetch;
  const tasks = c.ahead.slice(0, c.size);
  const covered: number[] = [];
  const queries: QueryCommand[] = [];
  for (const task of tasks) {
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

/** Run the module once (with until/retries), then apply changed_when / failed_when. */
async function executeOnce(
  rs: RunState,
  pv: PlayVars,
  task: Task,
  host: string,
  scope: VarScope,
): Promise<ModuleResult> {
  const mod = findModule(task.module);
  // the loader let it through because Ansible has it: it fails here, where a host reaches it
  if (!mod)
    return failure(
      notImplemented(
        new NotImplementedError(`${task.module}: module is not implemented by orch`, {
          hint: 'Ansible has this module; orch does not. Guard the task with `when:` for hosts that need it, or use a module orch has.',
        }),
        task,
        host,
      ),
    );
  const kw = task.notImplemented?.[0];
  if (kw !== undefined)
    return failure(
      notImplemented(
        new NotImplementedError(`keyword '${kw}' is not implemented by orch`, {
          hint: 'Remove it, or guard the task with `when:` where it must not run under orch.',
        }),
        task,
        host,
      ),
    );
  const hs = rs.hosts.get(host);
  let transport: Transport | undefined;
  const delegate = task.delegate_to ? String(renderValue(task.delegate_to, scope)) : undefined;
  const { become, env, timeoutMs: taskTimeoutMs } = execSettings(rs, pv, task, scope);
  const getTransport = async (): Promise<Transport> => {
    if (!transport) {
      const target = delegate && delegate !== host ? delegate : host;
      const targetScope = target === host ? scope : buildScope(rs, target, pv, undefined);
      transport = await rs.pool.get(target, targetScope);
    }
    return transport;
  };
  // answers fetched ahead came over the play's connection: not for a task with its own connection/login
  const onHostItself = (!delegate || delegate === host) && sameConnectionAsPlay(task, pv);
  /** a command hit the task's own `timeout:` (not --timeout): reported as Ansible does */
  let taskTimedOut = false;
  const run: ModuleContext['run'] = async (command, o = {}) => {
    const timeoutMs = o.timeoutMs ?? taskTimeoutMs;
    const opts = { ...o, become, env, timeoutMs };
    // a query fetched ahead for this host is answered from its snapshot (see prefetch.ts)
    const waiting = onHostItself ? hs?.prefetch.takeAny(command, opts) : undefined;
    const kept = waiting instanceof Promise ? await waiting : waiting;
    // anything else may change the host it runs on: what was fetched ahead there is stale now
    if (!kept) rs.hosts.get(delegate ?? host)?.prefetch.sent();
    const t = await getTransport();
    const started = Date.now();
    let r: ExecResult;
    if (kept) r = kept;
    else {
      const answer = t.exec(command, opts);
      if (onHostItself && hs && t.pipelines && !task.loop && windowRole(task) === 'query' && writesOwnHostOnly(task))
        await speculate(rs, pv, hs, t, opts.become);
      r = await answer;
    }
    // 124: stopped by SIGTERM at the limit; 137: it ignored that and was killed (SIGKILL) after the grace period
    if (timeoutMs !== undefined && (r.rc === TIMEOUT_RC || (r.rc === 137 && Date.now() - started >= timeoutMs))) {
      r.timedOutAfterMs = timeoutMs;
      if ((task.timeout !== undefined || task.async !== undefined) && o.timeoutMs === undefined) taskTimedOut = true;
    }
    return r;
  };
  const ctx = moduleContext(rs, host, task, scope, run);
  // wait_for_connection, reboot: the connection getTransport() opens, dropped and opened again
  const target = delegate ?? host;
  const targetScope = () => (target === host ? scope : buildScope(rs, target, pv, undefined));
  ctx.connection = {
    isLocal: () => isLocal(target, targetScope()),
    reset: async (connectTimeoutMs) => {
      transport = undefined;
      rs.hosts.get(target)?.prefetch.sent();
      transport = await rs.pool.reconnect(target, targetScope(), connectTimeoutMs);
    },
  };
  const num = (v: unknown, dflt: number) => {
    const n = Math.trunc(Number(v === undefined ? dflt : renderValue(v, scope)));
    if (!Number.isFinite(n)) throw new ModuleFailure(`retries/delay must be numbers, got ${JSON.stringify(v)}`);
    return n;
  };
  let attempts: number;
  let delay: number;
  try {
    attempts = task.until !== undefined ? Math.max(0, num(task.retries, 3)) + 1 : 1;
    delay = num(task.delay, 5);
  } catch (err) {
    return failure(err);
  }
  let result: ModuleResult = { changed: false };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const params = validateParams(mod.name, mod.spec, renderParams(mod, withModuleDefaults(task, mod), scope));
      guardWrites(rs, host, params);
      if (!mod.local) await getTransport();
      result = await mod.run(ctx, params);
    } catch (err) {
      result = failure(notImplemented(err, task, host));
    }
    if (taskTimedOut && taskTimeoutMs !== undefined) {
      const asyncSeconds = task.async !== undefined ? Number(renderValue(task.async, scope)) : undefined;
      const msg =
        asyncSeconds !== undefined && asyncSeconds * 1000 === taskTimeoutMs
          ? `async task did not complete within the requested time - ${asyncSeconds}s`
          : `The ${task.module} action failed to execute in the expected time frame (${Math.round(taskTimeoutMs / 1000)}) and was terminated`;
      result = { ...result, changed: false, failed: true, msg };
      taskTimedOut = false;
    }
    if (result.unreachable) return result;
    // as Ansible 2.14: `attempts` is in the result before changed_when/failed_when/until look at it
    if (task.until !== undefined) result.attempts = attempt;
    const withResult = task.register
      ? scope.with({ name: 'register', vars: { [task.register]: result }, templated: false })
      : scope;
    try {
      // As Ansible's TaskExecutor: a skipped result (a command in check mode) is not judged by
      // changed_when/failed_when.
      if (task.changed_when !== undefined && !result.skipped)
        result.changed = evalCondition(task.changed_when, withResult);
      if (task.failed_when !== undefined && !result.skipped) {
        try {
          const f = evalCondition(task.failed_when, withResult);
          result.failed_when_result = f;
          result.failed = f;
        } catch (err) {
          // as Ansible: the task fails, the module's msg stays, failed_when_result says why
          if (!(err instanceof OrchError)) throw err;
          result.failed_when_result = `The conditional check '${conditionText(task.failed_when)}' failed. The error was: ${err.message}`;
          result.failed = true;
        }
      }
      if (task.until === undefined || evalCondition(task.until, withResult)) break;
    } catch (err) {
      result = { ...result, ...failure(err) };
      break;
    }
    if (attempt < attempts) {
      rs.emit({ type: 'retry', host, taskId: task.id, task: task.name, attempt, retries: attempts - 1 });
      await new Promise((r) => setTimeout(r, delay * 1000));
    } else {
      result.failed = true;
      // Ansible counts the retries here, not the runs (retries: 2 runs three times and says 2)
      result.attempts = attempt - 1;
      result.msg ??= 'Retried until the condition was met, but it never was';
    }
  }
  return result;
}

const conditionText = (c: unknown): string => (Array.isArray(c) ? c.map(String).join(' and ') : String(c));

function label(task: Task, item: unknown, scope: VarScope): string {
  if (task.loop_control?.label !== undefined) return String(renderValue(task.loop_control.label, scope));
  return typeof item === 'string' ? item : pyRepr(item, true);
}

function messageOf(r: ModuleResult): string | undefined {
  if (r.msg !== undefined && r.msg !== '') return typeof r.msg === 'string' ? r.msg : pyRepr(r.msg);
  return undefined;
}

/** A task's title with its variables filled in when they can be (as Ansible shows names); raw otherwise. */
export function displayName(name: string, scope: VarScope): string {
  if (!name.includes('{{')) return name;
  try {
    return renderText(name, scope);
  } catch {
    return name;
  }
}

function report(
  rs: RunState,
  task: Task,
  host: string,
  r: ModuleResult,
  started: number,
  noLog: boolean,
  item?: string,
  delegatedTo?: string,
  scope?: VarScope,
): void {
  const status = statusOf(r);
  const ignored = status === 'failed' && Boolean(r._ignored);
  rs.emit({
    type: 'host_result',
    host,
    taskId: task.id,
    task: scope ? displayName(task.name, scope) : task.name,
    module: task.module,
    status,
    item: noLog && item !== undefined ? '(censored)' : item,
    msg: noLog ? (status === 'failed' ? NO_LOG_MSG : undefined) : messageOf(r),
    diff: noLog || !(rs.opts.diff || task.diff) ? undefined : r.diff,
    stdout: noLog ? undefined : r.stdout,
    stderr: noLog ? undefined : r.stderr,
    rc: r.rc,
    ignored: ignored || undefined,
    delegatedTo,
    durationMs: Date.now() - started,
    hint: noLog
      ? undefined
      : ((r.hint as string | undefined) ??
        (status === 'failed' && r.assertion !== undefined
          ? `the condition that failed: ${String(r.assertion)}`
          : undefined)),
    at:
      status === 'failed' || status === 'unreachable'
        ? formatPosition({ file: task.pos.file, line: task.pos.line })
        : undefined,
    plan: planMarkOf(rs, task, r),
  });
}

/** A result of a module that ran says `failed: false` when it did not fail, as Ansible's do (skips do not). */
function withFailedKey(r: ModuleResult): ModuleResult {
  const out = r.failed === undefined && !r.skipped ? { ...r, failed: false } : r;
  return Array.isArray(out.diff) ? { ...out, diff: out.diff.map(withDiffHeaders) } : out;
}

/** Where the facts a task sets go: the delegated host with delegate_facts, else the host itself. */
function factsHost(rs: RunState, task: Task, hs: HostState, scope: VarScope): HostState {
  if (!task.delegate_facts || task.delegate_to === undefined) return hs;
  const name = String(renderValue(task.delegate_to, scope));
  const target = rs.hosts.get(name);
  if (!target)
    rs.emit({
      type: 'warning',
      host: hs.name,
      msg: `delegate_facts: '${name}' is not in the inventory; the facts stay on ${hs.name}`,
    });
  return target ?? hs;
}

/**
 * What loop item i adds, as Ansible: the loop variable (loop_control.loop_var, templated), index_var and
 * ansible_loop (in the item's result too when `extended`), and the item's scope.
 */
function loopItem(
  task: Task,
  scope: VarScope,
  items: unknown[],
  i: number,
): { perItem: Record<string, unknown>; itemScope: VarScope } {
  const lc = task.loop_control;
  const loopVar = lc?.loop_var ? String(renderValue(lc.loop_var, scope)) : 'item';
  const indexVar = lc?.index_var ? String(renderValue(lc.index_var, scope)) : undefined;
  const perItem: Record<string, unknown> = { [loopVar]: items[i], ansible_loop_var: loopVar };
  if (indexVar) perItem[indexVar] = i;
  const ansibleLoop = {
    index: i + 1,
    index0: i,
    first: i === 0,
    last: i === items.length - 1,
    length: items.length,
    revindex: items.length - i,
    revindex0: items.length - i - 1,
    ...(lc?.extended ? { allitems: items, previtem: items[i - 1], nextitem: items[i + 1] } : {}),
  };
  if (lc?.extended) perItem.ansible_loop = ansibleLoop;
  return {
    perItem,
    itemScope: scope.with({ name: 'loop', vars: { ...perItem, ansible_loop: ansibleLoop }, templated: false }),
  };
}

function loopScope(task: Task, scope: VarScope, items: unknown[], i: number): VarScope {
  return loopItem(task, scope, items, i).itemScope;
}

/** One task on one host: when, loop, module, register, notify, stats, events. */
export async function runTaskOnHost(rs: RunState, pv: PlayVars, task: Task, host: string): Promise<TaskOutcome> {
  const hs = rs.hosts.get(host);
  if (!hs) throw new Error(`unknown host ${host}`);
  const started = Date.now();
  const scope = buildScope(rs, host, pv, task);
  const gathersFacts = findModule(task.module)?.gathersFacts === true;
  let noLog = false;
  let result: ModuleResult;
  try {
    noLog = bool(task.no_log, scope);
    const cond = (s: VarScope) => task.when.length === 0 || evalCondition(task.when, s);
    const skippedResult: ModuleResult = { changed: false, skipped: true, skip_reason: 'Conditional result was False' };
    let items: unknown[] | undefined;
    try {
      items = task.loop ? expandLoop(task.loop, scope) : undefined;
    } catch (err) {
      // as Ansible: a loop that cannot be templated is an error only when the task's condition holds
      if (!(err instanceof UndefinedVariableError) || cond(scope)) throw err;
    }
    if (!task.loop || items === undefined) {
      result =
        items === undefined && task.loop
          ? skippedResult
          : cond(scope)
            ? withFailedKey(await executeOnce(rs, pv, task, host, scope))
            : skippedResult;
    } else {
      const lc = task.loop_control;
      const results: ModuleResult[] = [];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const { perItem, itemScope } = loopItem(task, scope, items, i);
        const itemStarted = Date.now();
        const r: ModuleResult = cond(itemScope)
          ? withFailedKey(await executeOnce(rs, pv, task, host, itemScope))
          : { ...skippedResult };
        Object.assign(r, perItem);
        if (r.ansible_facts) factsHost(rs, task, hs, itemScope).keepFacts(r.ansible_facts, gathersFacts);
        results.push(r);
        report(rs, task, host, r, itemStarted, noLog, label(task, item, itemScope), undefined, itemScope);
        if (r.unreachable) break;
        if (lc?.pause && i < items.length - 1) await new Promise((res) => setTimeout(res, (lc.pause ?? 0) * 1000));
      }
      const failed = results.some((r) => r.failed);
      const allSkipped = results.every((r) => r.skipped);
      result = {
        changed: results.some((r) => r.changed),
        failed: failed || undefined,
        unreachable: results.some((r) => r.unreachable) || undefined,
        // as Ansible: `skipped` is always there for a loop that ran items
        skipped: results.length === 0 || allSkipped,
        msg: failed
          ? 'One or more items failed'
          : results.length > 0 && allSkipped
            ? 'All items skipped'
            : 'All items completed',
        results,
        skipped_reason: results.length === 0 ? 'No items in the list' : undefined,
      };
    }
  } catch (err) {
    result = failure(err);
  }
  const ignoreErrors = result.failed && !result.unreachable && bool(task.ignore_errors, scope);
  const ignoreUnreachable = result.unreachable && task.ignore_unreachable === true;
  if (ignoreErrors) result._ignored = true;
  if (task.register) {
    const { _ignored, ...registered } = result;
    void _ignored;
    hs.runtime[task.register] = registered;
  }
  markPlan(rs, hs, task, result, scope, pv.play);
  if (!task.loop && result.ansible_facts && !result.failed)
    factsHost(rs, task, hs, scope).keepFacts(result.ansible_facts, gathersFacts);
  if (result.changed && !result.failed) for (const n of task.notify) hs.notified.add(String(renderValue(n, scope)));
  const status = statusOf(result);
  const st = hs.stats;
  if (status === 'unreachable') st.unreachable++;
  else if (status === 'failed' && !ignoreErrors) st.failed++;
  else if (status === 'failed') {
    // as Ansible counts an ignored failure: ignored, and ok (and changed when the result says so)
    st.ignored++;
    st.ok++;
    if (result.changed) st.changed++;
  } else if (status === 'skipped') st.skipped++;
  else if (status === 'changed') {
    st.changed++;
    st.ok++;
  } else st.ok++;
  // Loop items were reported one by one; the aggregate is shown only when no item ran.
  if (!task.loop || !Array.isArray(result.results) || result.results.length === 0)
    report(
      rs,
      task,
      host,
      result,
      started,
      noLog,
      undefined,
      task.delegate_to ? displayName(task.delegate_to, scope) : undefined,
      scope,
    );
  return { status, result, ignored: Boolean(ignoreErrors || ignoreUnreachable) };
}
