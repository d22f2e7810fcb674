import type { Play, Task } from '../playbook/model.js';
import { renderValue } from '../template/env.js';
import { UndefinedVariableError } from '../template/undefined.js';
import { buildScope, type PlayVars } from './scope.js';
import type { RunState } from './state.js';

/*
 * Which handlers a notified name reaches, as ansible-playbook 2.14 finds them (strategy
 * search_handler_blocks_by_name): a handler's name is templated once per play, the first time a notification
 * looks at it, with the variables of no host (play vars, vars_files, extra vars, role defaults, the handler's own
 * and its role's vars, magic variables that are not per host). A name using anything else (inventory or host vars,
 * facts, set_fact) is undefined there: the handler cannot be notified by name, with a warning unless it has listen
 * topics. `listen` topics are not templated (a static keyword in 2.14).
 */

interface Named {
  /** the templated name; undefined: it could not be templated */
  name?: string;
}

/** per run and play (a loaded playbook may run again, with other extra vars) */
const cache = new WeakMap<RunState, WeakMap<Play, Map<Task, Named>>>();

function templatedName(rs: RunState, pv: PlayVars, handler: Task): Named {
  let plays = cache.get(rs);
  if (!plays) cache.set(rs, (plays = new WeakMap()));
  let names = plays.get(pv.play);
  if (!names) plays.set(pv.play, (names = new Map()));
  let named = names.get(handler);
  if (named) return named;
  try {
    named = { name: String(renderValue(handler.name, buildScope(rs, undefined, pv, handler))) };
  } catch (err) {
    if (!(err instanceof UndefinedVariableError)) throw err;
    named = {};
    if (handler.listen.length === 0)
      rs.emit({
        type: 'warning',
        msg: `Handler '${handler.name}' is unusable because it has no listen topics and the name could not be templated (host-specific variables are not supported in handler names). The error: ${err.message}`,
      });
  }
  names.set(handler, named);
  return named;
}

/** The names a handler answers by: its templated name, "role : name" */
function byName(rs: RunState, pv: PlayVars, handler: Task): string[] {
  const { name } = templatedName(rs, pv, handler);
  if (name === undefined) return [];
  return [name, ...(handler.role ? [`${handler.role.name} : ${name}`] : [])];
}

/**
 * Ansible's search order: the handler blocks (each role's, the play's) last first, each block's handlers in
 * order; the first whose name answers wins (handlers after it are not templated yet).
 */
function searchOrder(handlers: readonly Task[]): Task[] {
  const blocks: Task[][] = [];
  for (const h of handlers) {
    const last = blocks.at(-1);
    if (last && last[0]?.role === h.role) last.push(h);
    else blocks.push([h]);
  }
  return blocks.reverse().flat();
}

/** The handler's name as shown: templated, as Ansible shows it once a notification looked at it. */
export function shownName(rs: RunState, pv: PlayVars, handler: Task): string {
  return templatedName(rs, pv, handler).name ?? handler.name;
}

/** The handlers a notified name reaches: the one found by its name, and every one listening to it. */
export function handlersReached(rs: RunState, pv: PlayVars, name: string): Task[] {
  const found = searchOrder(pv.play.handlers).find((h) => byName(rs, pv, h).includes(name));
  const listening = pv.play.handlers.filter((h) => h !== found && h.listen.includes(name));
  return found ? [found, ...listening] : listening;
}

/** Every name and topic the play's handlers answer to (for "did you mean"). */
export function allHandlerNames(rs: RunState, pv: PlayVars): string[] {
  return pv.play.handlers.flatMap((h) => [...byName(rs, pv, h), ...h.listen]);
}
