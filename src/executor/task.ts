import { ConnectError, OrchError, errorMessage, formatPosition } from '../core/errors.js';
import type { HostStatus, ModuleResult } from '../core/result.js';
import { statusOf } from '../core/result.js';
import { findModule } from '../modules/registry.js';
import { validateParams } from '../modules/spec.js';
import { ModuleFailure, type Module, type ModuleContext } from '../modules/types.js';
import type { Task } from '../playbook/model.js';
import { evalCondition, evalExpression, renderText, renderValue } from '../template/env.js';
import { findLocalFile } from '../template/lookups.js';
import { pyRepr } from '../template/python.js';
import type { VarScope } from '../template/scope.js';
import { explainSudoFailure, TIMEOUT_RC } from '../transport/wrap.js';
import type { BecomeSettings, Transport } from '../transport/types.js';
import { expandLoop } from './loop.js';
import { batchScript, groupByBecome, parseBatch, type QueryCommand } from './prefetch.js';
import { OMIT, becomeAs, buildScope, type PlayVars } from './scope.js';
import type { RunState } from './state.js';

export const NO_LOG_MSG = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

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
  const on = task.become ?? pv.play.become ?? (scope.has('ansible_become') ? bool(scope.get('ansible_become'), scope) : rs.opts.become ?? false);
  if (!on) return undefined;
  return becomeAs(String(renderValue(task.become_user ?? pv.play.becomeUser ?? scope.get('ansible_become_user') ?? 'root', scope)), scope);
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
  for (const [k, v] of Object.entries(args)) {
    const r = mod.rawParams?.includes(k) ? v : renderValue(v, scope);
    if (r !== OMIT) out[k] = r;
  }
  return out;
}

function failure(err: unknown): ModuleResult {
  if (err instanceof ConnectError) return { changed: false, unreachable: true, msg: err.message, hint: err.hint };
  if (err instanceof ModuleFailure) return { changed: false, ...err.extra, failed: true, msg: err.message };
  if (err instanceof OrchError) return { changed: false, failed: true, msg: err.message, hint: err.hint };
  return { changed: false, failed: true, msg: `internal error: ${errorMessage(err)}`, exception: err instanceof Error ? err.stack : undefined };
}

interface ExecSettings {
  become: BecomeSettings | undefined;
  env: Record<string, string>;
  timeoutMs: number | undefined;
}

function execSettings(rs: RunState, pv: PlayVars, task: Task, scope: VarScope): ExecSettings {
  return {
    become: becomeFor(task, pv, scope, rs),
    env: environmentFor(task, scope),
    timeoutMs: task.timeout === undefined ? rs.opts.commandTimeoutMs : Number(renderValue(task.timeout, scope)) * 1000,
  };
}

function moduleContext(rs: RunState, host: string, task: Task, scope: VarScope, run: ModuleContext['run'], prefetched?: ModuleContext['prefetched']): ModuleContext {
  return {
    host,
    check: task.check_mode === undefined ? rs.opts.check : bool(task.check_mode, scope),
    diff: rs.opts.diff || task.diff === true,
    vars: scope,
    run,
    prefetched,
    findLocal: (kind, name) => findLocalFile(name, [...scope.lookupPaths.filter((p) => p.endsWith(`/${kind}`)), ...scope.lookupPaths]),
    render: (text, opts) => renderText(text, scope, {}, opts),
    evaluate: (expr) => evalExpression(expr, scope),
    warn: (msg) => rs.emit({ type: 'warning', host, msg }),
    probeConnection: () => rs.pool.probe(host, scope),
  };
}

class Recorded extends Error {
  constructor(readonly query: QueryCommand) {
    super('recorded');
  }
}

/**
 * The first read-only command this task would run on this host (its module's query), without running
 * anything; undefined when that cannot be known now (loops, delegation, a condition or argument that
 * depends on what earlier tasks register...).
 */
export async function recordQuery(rs: RunState, pv: PlayVars, task: Task, host: string): Promise<QueryCommand | undefined> {
  const mod = findModule(task.module);
  if (!mod?.query || mod.local || task.loop || task.delegate_to || task.until !== undefined) return undefined;
  try {
    const scope = buildScope(rs, host, pv, task);
    if (task.when.length > 0 && !evalCondition(task.when, scope)) return undefined;
    const x = execSettings(rs, pv, task, scope);
    const params = validateParams(mod.name, mod.spec, renderParams(mod, task.args, scope));
    const record: ModuleContext['run'] = (command, o = {}) => {
      throw new Recorded({ command, opts: { ...o, become: x.become, env: x.env, timeoutMs: o.timeoutMs ?? x.timeoutMs } });
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
  for (const t of tasks) {
    const q = await recordQuery(rs, pv, t, host);
    if (q) queries.push(q);
  }
  if (queries.length < 2) return; // one query: no round trip to save
  const t = await rs.pool.get(host, buildScope(rs, host, pv, undefined));
  if (t.pipelines) {
    // all sent back to back on the runner: one round trip, and no wrapper script on the host
    const answers = await Promise.all(queries.map((q) => t.exec(q.command, q.opts)));
    answers.forEach((a, i) => hs.prefetch.store(queries[i] as QueryCommand, a));
    return;
  }
  for (const g of groupByBecome(queries)) {
    const r = await t.exec(batchScript(g.queries), { become: g.become });
    if (r.rc !== 0) return; // e.g. sudo refused: the tasks will run their queries themselves and report it
    const answers = parseBatch(r.stdout);
    g.queries.forEach((q, i) => {
      const a = answers.get(i);
      if (a) hs.prefetch.store(q, a);
    });
  }
}

/** Run the module once (with until/retries), then apply changed_when / failed_when. */
async function executeOnce(rs: RunState, pv: PlayVars, task: Task, host: string, scope: VarScope): Promise<ModuleResult> {
  const mod = findModule(task.module);
  if (!mod) return { changed: false, failed: true, msg: `unknown module ${task.module}` };
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
  const onHostItself = !delegate || delegate === host;
  const run: ModuleContext['run'] = async (command, o = {}) => {
    const timeoutMs = o.timeoutMs ?? taskTimeoutMs;
    const opts = { ...o, become, env, timeoutMs };
    const kept = onHostItself ? hs?.prefetch.take(command, opts) : undefined;
    // anything else may change the host it runs on: what was fetched ahead there is stale now
    if (!kept) rs.hosts.get(delegate ?? host)?.prefetch.invalidate();
    const t = await getTransport();
    const started = Date.now();
    const r = kept ?? (await t.exec(command, opts));
    // 124: stopped by SIGTERM at the limit; 137: it ignored that and was killed (SIGKILL) after the grace period
    if (timeoutMs !== undefined && (r.rc === TIMEOUT_RC || (r.rc === 137 && Date.now() - started >= timeoutMs))) r.timedOutAfterMs = timeoutMs;
    if (become && r.rc !== 0) {
      const why = explainSudoFailure(r.stderr);
      if (why && /^sudo:|password|Sorry, try again/m.test(r.stderr)) throw new ModuleFailure(why, { rc: r.rc, stderr: r.stderr });
    }
    return r;
  };
  const prefetched: ModuleContext['prefetched'] = (command, o = {}) => (onHostItself ? hs?.prefetch.take(command, { ...o, become, env, timeoutMs: o.timeoutMs ?? taskTimeoutMs }) : undefined);
  const ctx = moduleContext(rs, host, task, scope, run, prefetched);
  const num = (v: unknown, dflt: number) => {
    const n = Number(v === undefined ? dflt : renderValue(v, scope));
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
      const params = validateParams(mod.name, mod.spec, renderParams(mod, task.args, scope));
      if (!mod.local) await getTransport();
      result = await mod.run(ctx, params);
    } catch (err) {
      result = failure(err);
    }
    if (result.unreachable) return result;
    const withResult = task.register ? scope.with({ name: 'register', vars: { [task.register]: result }, templated: false }) : scope;
    try {
      // As Ansible's TaskExecutor: a skipped result (a command in check mode) is not judged by changed_when/failed_when.
      if (task.changed_when !== undefined && !result.skipped) result.changed = evalCondition(task.changed_when, withResult);
      if (task.failed_when !== undefined && !result.skipped) {
        const f = evalCondition(task.failed_when, withResult);
        result.failed_when_result = f;
        result.failed = f;
      }
      if (task.until === undefined || evalCondition(task.until, withResult)) {
        if (task.until !== undefined) result.attempts = attempt;
        break;
      }
    } catch (err) {
      result = { ...result, ...failure(err) };
      break;
    }
    if (attempt < attempts) {
      rs.emit({ type: 'retry', host, taskId: task.id, task: task.name, attempt, retries: attempts - 1 });
      await new Promise((r) => setTimeout(r, delay * 1000));
    } else {
      result.failed = true;
      result.attempts = attempt;
      result.msg ??= 'Retried until the condition was met, but it never was';
    }
  }
  return result;
}

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

function report(rs: RunState, task: Task, host: string, r: ModuleResult, started: number, noLog: boolean, item?: string, delegatedTo?: string, scope?: VarScope): void {
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
    hint: noLog ? undefined : ((r.hint as string | undefined) ?? (status === 'failed' && r.assertion !== undefined ? `the condition that failed: ${String(r.assertion)}` : undefined)),
    at: status === 'failed' || status === 'unreachable' ? formatPosition({ file: task.pos.file, line: task.pos.line }) : undefined,
  });
}

/** One task on one host: when, loop, module, register, notify, stats, events. */
export async function runTaskOnHost(rs: RunState, pv: PlayVars, task: Task, host: string): Promise<TaskOutcome> {
  const hs = rs.hosts.get(host);
  if (!hs) throw new Error(`unknown host ${host}`);
  const started = Date.now();
  const scope = buildScope(rs, host, pv, task);
  let noLog = false;
  let result: ModuleResult;
  try {
    noLog = bool(task.no_log, scope);
    const cond = (s: VarScope) => task.when.length === 0 || evalCondition(task.when, s);
    if (!task.loop) {
      result = cond(scope) ? await executeOnce(rs, pv, task, host, scope) : { changed: false, skipped: true, skip_reason: 'Conditional result was False' };
    } else {
      const items = expandLoop(task.loop, scope);
      const lc = task.loop_control;
      const results: ModuleResult[] = [];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const loopVars: Record<string, unknown> = { [lc?.loop_var ?? 'item']: item, ansible_loop_var: lc?.loop_var ?? 'item' };
        if (lc?.index_var) loopVars[lc.index_var] = i;
        loopVars.ansible_loop = { index: i + 1, index0: i, first: i === 0, last: i === items.length - 1, length: items.length, revindex: items.length - i, revindex0: items.length - i - 1, ...(lc?.extended ? { allitems: items, previtem: items[i - 1], nextitem: items[i + 1] } : {}) };
        const itemScope = scope.with({ name: 'loop', vars: loopVars, templated: false });
        const itemStarted = Date.now();
        const r: ModuleResult = cond(itemScope) ? await executeOnce(rs, pv, task, host, itemScope) : { changed: false, skipped: true, skip_reason: 'Conditional result was False' };
        Object.assign(r, { item, ansible_loop_var: lc?.loop_var ?? 'item' });
        if (r.ansible_facts) Object.assign(hs.runtime, r.ansible_facts);
        results.push(r);
        report(rs, task, host, r, itemStarted, noLog, label(task, item, itemScope), undefined, itemScope);
        if (r.unreachable) break;
        if (lc?.pause && i < items.length - 1) await new Promise((res) => setTimeout(res, (lc.pause ?? 0) * 1000));
      }
      const failed = results.some((r) => r.failed);
      result = {
        changed: results.some((r) => r.changed),
        failed: failed || undefined,
        unreachable: results.some((r) => r.unreachable) || undefined,
        skipped: results.length === 0 || results.every((r) => r.skipped) || undefined,
        msg: failed ? 'One or more items failed' : 'All items completed',
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
  if (!task.loop && result.ansible_facts && !result.failed) Object.assign(hs.runtime, result.ansible_facts);
  if (result.changed && !result.failed) for (const n of task.notify) hs.notified.add(String(renderValue(n, scope)));
  const status = statusOf(result);
  if (status === 'ok') hs.prefetch.enabled = true; // converged here: fetching ahead pays again
  const st = hs.stats;
  if (status === 'unreachable') st.unreachable++;
  else if (status === 'failed') (ignoreErrors ? st.ignored++ : st.failed++);
  else if (status === 'skipped') st.skipped++;
  else if (status === 'changed') {
    st.changed++;
    st.ok++;
  } else st.ok++;
  // Loop items were reported one by one; the aggregate is shown only when no item ran.
  if (!task.loop || !Array.isArray(result.results) || result.results.length === 0) report(rs, task, host, result, started, noLog, undefined, task.delegate_to ? displayName(task.delegate_to, scope) : undefined, scope);
  return { status, result, ignored: Boolean(ignoreErrors || ignoreUnreachable) };
}
