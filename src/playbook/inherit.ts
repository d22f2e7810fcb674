/**
 * Keyword inheritance: what a play, role, block or include passes down to the tasks inside it (when, tags,
 * become, environment, vars...), each entry's own keywords layered over its parent's.
 */
import { notImplementedKeywords, TASK_KEYWORDS_NOT_IMPLEMENTED } from './keywords.js';
import type { Inherited, RoleContext } from './model.js';
import { asList, isDict, strings } from './task-parts.js';

type Dict = Record<string, unknown>;

/** Keywords of this entry layered over what it inherits. */
export function inherit(parent: Inherited, e: Dict, dir: string, role?: RoleContext): Inherited {
  return {
    when: [...parent.when, ...asList(e.when)],
    tags: [...new Set([...parent.tags, ...strings(e.tags)])],
    become: e.become !== undefined ? Boolean(e.become) : parent.become,
    become_user: e.become_user !== undefined ? String(e.become_user) : parent.become_user,
    become_method: e.become_method !== undefined ? String(e.become_method) : parent.become_method,
    environment:
      isDict(e.environment) || typeof e.environment === 'string'
        ? [...parent.environment, e.environment as Dict]
        : parent.environment,
    vars: isDict(e.vars) ? { ...parent.vars, ...e.vars } : parent.vars,
    ...(parent.params ? { params: parent.params } : {}),
    ignore_errors: e.ignore_errors ?? parent.ignore_errors,
    ignore_unreachable: e.ignore_unreachable !== undefined ? Boolean(e.ignore_unreachable) : parent.ignore_unreachable,
    no_log: e.no_log ?? parent.no_log,
    check_mode: e.check_mode ?? parent.check_mode,
    diff: e.diff !== undefined ? Boolean(e.diff) : parent.diff,
    delegate_to: e.delegate_to !== undefined ? String(e.delegate_to) : parent.delegate_to,
    run_once: e.run_once !== undefined ? Boolean(e.run_once) : parent.run_once,
    any_errors_fatal: e.any_errors_fatal !== undefined ? Boolean(e.any_errors_fatal) : parent.any_errors_fatal,
    connection: e.connection !== undefined ? String(e.connection) : parent.connection,
    remote_user: e.remote_user !== undefined ? String(e.remote_user) : parent.remote_user,
    throttle: e.throttle ?? parent.throttle,
    module_defaults: isDict(e.module_defaults)
      ? [...(parent.module_defaults ?? []), e.module_defaults]
      : parent.module_defaults,
    delegate_facts: e.delegate_facts !== undefined ? Boolean(e.delegate_facts) : parent.delegate_facts,
    timeout: e.timeout ?? parent.timeout,
    port: e.port !== undefined ? String(e.port) : parent.port,
    notImplemented: [
      ...new Set([...(parent.notImplemented ?? []), ...notImplementedKeywords(e, TASK_KEYWORDS_NOT_IMPLEMENTED)]),
    ],
    role: role ?? parent.role,
    dir,
  };
}
