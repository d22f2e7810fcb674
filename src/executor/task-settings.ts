import {
  ConnectError,
  ModuleError,
  NotImplementedError,
  OrchError,
  errorMessage,
  formatPosition,
} from '../core/errors.js';
import { ARGS_TEMPLATE } from '../playbook/args.js';
import type { ModuleResult } from '../core/result.js';
import { splitLines } from '../modules/command-result.js';
import { resolveModuleName } from '../modules/registry.js';
import { registerNoLogValues } from '../modules/spec.js';
import { ModuleFailure, type Module, type ModuleContext } from '../modules/types.js';
import { BACKGROUND_MODULES, POLL_ZERO } from '../playbook/keywords.js';
import type { Task } from '../playbook/model.js';
import { evalExpression, renderText, renderValue } from '../template/env.js';
import { findLocalFile } from '../template/lookups.js';
import type { VarScope } from '../template/scope.js';
import type { BecomeSettings } from '../transport/types.js';
import { perlProbe } from '../transport/probe-command.js';
import { inventoryEditor } from './dynamic-inventory.js';
import { runsInPlan, unknownOutcome } from './plan.js';
import { OMIT, becomeAs, type PlayVars } from './scope.js';
import type { HostState, RunState } from './state.js';

/* What a task runs with on a host: become, environment, parameters, the module context. */

export function bool(v: unknown, scope: VarScope): boolean {
  if (typeof v === 'boolean') return v;
  if (v === undefined || v === null) return false;
  const r = renderValue(v, scope);
  return r === true || ['yes', 'true', 'on', '1'].includes(String(r).toLowerCase());
}

/** Whom a task runs as; the play's own settings alone for `{}` (Gathering Facts runs with the play's become). */
export function becomeFor(
  task: Pick<Task, 'become' | 'become_method' | 'become_user'>,
  pv: PlayVars,
  scope: VarScope,
  rs: RunState,
): BecomeSettings | undefined {
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

export function environmentFor(task: Task, scope: VarScope): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of task.environment) {
    const rendered = renderValue(e, scope);
    if (rendered && typeof rendered === 'object') for (const [k, v] of Object.entries(rendered)) env[k] = String(v);
  }
  return env;
}

/** The task's arguments templated in its scope; the values of no_log parameters become secrets of the run. */
export function renderParams(mod: Module, args: Record<string, unknown>, scope: VarScope): Record<string, unknown> {
  const out = mod.noTemplate ? { ...args } : templated(mod, args, scope);
  registerNoLogValues(mod.spec, out, scope.context.secrets);
  return out;
}

function templated(mod: Module, args: Record<string, unknown>, scope: VarScope): Record<string, unknown> {
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
    if (r !== OMIT) out[k] = withoutOmit(r);
  }
  return out;
}

/** As Ansible's remove_omit: a key set to omit in a mapping is dropped, at any depth (a list item is kept). */
function withoutOmit(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutOmit);
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== OMIT)
      .map(([k, x]) => [k, withoutOmit(x)]),
  );
}

/**
 * The task's arguments over its `module_defaults` (play, block, role, task; inner wins, the task's own
 * arguments win over all). Keys name a module short or fully qualified; action groups (`group/...`) are
 * not implemented: refused when reached.
 */
export function withModuleDefaults(task: Task, mod: Module): Record<string, unknown> {
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
export function notImplemented(err: unknown, task: Task, host: string): unknown {
  if (!(err instanceof NotImplementedError)) return err;
  return new NotImplementedError(`${err.message} (task '${task.name}' at ${formatPosition(task.pos)}, host ${host})`, {
    hint: err.hint,
  });
}

export function failure(err: unknown): ModuleResult {
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

export interface ExecSettings {
  become: BecomeSettings | undefined;
  env: Record<string, string>;
  timeoutMs: number | undefined;
}

/** `poll: 0` on command/shell: a background job (modules/async-job.ts); other modules refuse it when reached. */
export function isBackgroundJob(task: Task): boolean {
  return (
    task.notImplemented?.includes(POLL_ZERO) === true && BACKGROUND_MODULES.includes(resolveModuleName(task.module))
  );
}

/**
 * What Ansible has and orch lacks (the loader let it through): a module, or a keyword (`poll: 0` only on command
 * and shell, as background jobs) fails the task when a host reaches it. Undefined when the task can run.
 */
export function refusal(task: Task, host: string, hasModule: boolean, background: boolean): unknown {
  const kw = task.notImplemented?.find((k) => !(background && k === POLL_ZERO));
  const err = !hasModule
    ? new NotImplementedError(`${task.module}: module is not implemented by orch`, {
        hint: 'Ansible has this module; orch does not. Guard the task with `when:` for hosts that need it, or use a module orch has.',
      })
    : kw !== undefined
      ? new NotImplementedError(`keyword '${kw}' is not implemented by orch`, {
          hint: 'Remove it, or guard the task with `when:` where it must not run under orch.',
        })
      : undefined;
  return err && notImplemented(err, task, host);
}

/** As Ansible's action base does to a module's result: stdout_lines and stderr_lines beside stdout and stderr. */
export function withOutputLines(r: ModuleResult): ModuleResult {
  if (typeof r.stdout === 'string' && !('stdout_lines' in r)) r.stdout_lines = splitLines(r.stdout);
  if (typeof r.stderr === 'string' && !('stderr_lines' in r)) r.stderr_lines = splitLines(r.stderr);
  return r;
}

/** `async: N` with polling: the same result as waiting, within N seconds (Ansible fails the task after N). */
export function asyncLimit(task: Task, scope: VarScope, timeoutMs: number | undefined): number | undefined {
  if (task.async === undefined) return timeoutMs;
  const ms = Number(renderValue(task.async, scope)) * 1000;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, timeoutMs ?? Infinity) : timeoutMs;
}

export function execSettings(rs: RunState, pv: PlayVars, task: Task, scope: VarScope): ExecSettings {
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

export function moduleContext(
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
    probe: (code, opts) => run(perlProbe(code), opts),
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
export function sameConnectionAsPlay(task: Task, pv: PlayVars): boolean {
  return (
    task.connection === pv.play.connection && task.remote_user === pv.play.remoteUser && task.port === pv.play.port
  );
}

/** Where the facts a task sets go: the delegated host with delegate_facts, else the host itself. */
export function factsHost(rs: RunState, task: Task, hs: HostState, scope: VarScope): HostState {
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
