import { OrchError } from '../core/errors.js';
import type { HostStatus, ModuleResult } from '../core/result.js';
import { statusOf } from '../core/result.js';
import { startJob } from '../modules/async-job.js';
import { findModule } from '../modules/registry.js';
import { UndefinedVariableError } from '../template/undefined.js';
import { validateParams } from '../modules/spec.js';
import { ModuleFailure, type ModuleContext, type RunResult } from '../modules/types.js';
import type { Task } from '../playbook/model.js';
import { evalCondition, renderValue } from '../template/env.js';
import type { VarScope } from '../template/scope.js';
import { TIMEOUT_RC } from '../transport/wrap.js';
import type { Transport } from '../transport/types.js';
import { isLocal } from './connections.js';
import { windowRole, writesOwnHostOnly } from './prefetch.js';
import { guardWrites, markPlan } from './plan.js';
import { buildScope, type PlayVars } from './scope.js';
import { factSourceOf, type RunState } from './state.js';
import {
  bool,
  execSettings,
  factsHost,
  failure,
  isBackgroundJob,
  moduleContext,
  refusal,
  withOutputLines,
  notImplemented,
  renderParams,
  sameConnectionAsPlay,
  withModuleDefaults,
} from './task-settings.js';
import { speculate } from './task-queries.js';
import { conditionText, countResult, displayName, label, report, withFailedKey } from './task-report.js';
import { expandLoop, loopItem, loopResult, loopVarInUse } from './loop.js';
import { missingHandlerError, missingHandlerMessage, notifyNames, unknownHandlers } from './handlers.js';

export { displayName, NO_LOG_MSG } from './task-report.js';
export { prefetchQueries, recordQuery } from './task-queries.js';

export interface TaskOutcome {
  status: HostStatus;
  result: ModuleResult;
  ignored: boolean;
  /** what stops the run once every host has finished this task (a notified handler that does not exist) */
  error?: OrchError;
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
  const background = isBackgroundJob(task);
  const refused = refusal(task, host, mod !== undefined, background);
  if (refused || !mod) return failure(refused);
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
  const run: ModuleContext['run'] = async (command, withThen = {}) => {
    const { then: follow, ...o } = withThen;
    const timeoutMs = o.timeoutMs ?? taskTimeoutMs;
    const opts = { ...o, become, env, timeoutMs };
    // a query fetched ahead for this host is answered from its snapshot (see prefetch.ts)
    const waiting = onHostItself ? hs?.prefetch.takeAny(command, opts) : undefined;
    const kept = waiting instanceof Promise ? await waiting : waiting;
    // anything else may change the host it runs on: what was fetched ahead there is stale now
    if (!kept) rs.hosts.get(delegate ?? host)?.prefetch.sent();
    const t = await getTransport();
    const started = Date.now();
    let r: RunResult;
    if (kept) r = kept;
    else {
      const answer = t.exec(command, opts);
      // its failure is the command's to report (a lost connection): the probe's answer is then just missing
      const followed =
        follow !== undefined && t.pipelines
          ? t.exec(follow, { ...opts, stdin: undefined }).catch(() => undefined)
          : undefined;
      if (onHostItself && hs && t.pipelines && !task.loop && windowRole(task) === 'query' && writesOwnHostOnly(task))
        await speculate(rs, pv, hs, t, opts.become);
      r = await answer;
      const f = await followed;
      if (f) r = { ...r, followed: f };
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
      const seconds = () => Number(renderValue(task.async, scope));
      result = background ? await startJob(ctx, seconds(), (c) => mod.run(c, params)) : await mod.run(ctx, params);
    } catch (err) {
      result = failure(notImplemented(err, task, host));
    }
    if (!mod.local) withOutputLines(result);
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

/** One task on one host: when, loop, module, register, notify, stats, events. */
export async function runTaskOnHost(rs: RunState, pv: PlayVars, task: Task, host: string): Promise<TaskOutcome> {
  const hs = rs.hosts.get(host);
  if (!hs) throw new Error(`unknown host ${host}`);
  const started = Date.now();
  hs.recorded.delete(task.id); // its queries, recorded ahead (task-queries.ts), are of no more use
  const scope = buildScope(rs, host, pv, task);
  const factSource = factSourceOf(findModule(task.module));
  let noLog = false;
  let result: ModuleResult;
  const notified: string[] = [];
  const runOnce = async (s: VarScope): Promise<ModuleResult> => {
    try {
      notified.push(...notifyNames(task, s));
    } catch (err) {
      return failure(err);
    }
    return withFailedKey(await executeOnce(rs, pv, task, host, s));
  };
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
      result = items === undefined && task.loop ? skippedResult : cond(scope) ? await runOnce(scope) : skippedResult;
    } else {
      const lc = task.loop_control;
      const inUse = loopVarInUse(task, scope);
      if (inUse) rs.emit({ type: 'warning', host, msg: inUse });
      const results: ModuleResult[] = [];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const { perItem, itemScope } = loopItem(task, scope, items, i);
        const itemStarted = Date.now();
        const r: ModuleResult = cond(itemScope) ? await runOnce(itemScope) : { ...skippedResult };
        Object.assign(r, perItem);
        if (r.ansible_facts) factsHost(rs, task, hs, itemScope).keepFacts(r.ansible_facts, factSource);
        results.push(r);
        report(rs, task, host, r, itemStarted, noLog, label(task, item, itemScope), undefined, itemScope);
        if (r.unreachable) break;
        if (lc?.pause && i < items.length - 1) await new Promise((res) => setTimeout(res, (lc.pause ?? 0) * 1000));
      }
      result = loopResult(results);
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
    hs.setVars({ [task.register]: registered });
  }
  markPlan(rs, hs, task, result, scope, pv);
  if (!task.loop && result.ansible_facts && !result.failed)
    factsHost(rs, task, hs, scope).keepFacts(result.ansible_facts, factSource);
  const status = statusOf(result);
  if (result.changed && !result.failed) {
    const names = [...new Set(notified)];
    // as Ansible, the run stops there: this host's result is neither shown nor counted (unless
    // error_on_missing_handler is off: a warning for each, and the others are notified)
    const missing = unknownHandlers(rs, pv, names);
    if (missing[0] !== undefined && !rs.opts.warnOnMissingHandler)
      return { status, result, ignored: false, error: missingHandlerError(missing[0], rs, pv, task) };
    for (const n of missing) rs.emit({ type: 'warning', host, msg: missingHandlerMessage(n) });
    for (const n of names) if (!missing.includes(n)) hs.notified.add(n);
  }
  countResult(hs.stats, status, result, ignoreErrors === true);
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
