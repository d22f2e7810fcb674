import { ParseError, formatPosition } from '../core/errors.js';
import type { Inventory } from '../inventory/model.js';
import type { Playbook } from '../playbook/model.js';
import { findUndefined, type UndefinedUse } from '../playbook/undefined-vars.js';
import type { RunOptions } from './state.js';

/** Every variable name the inventory, -e and ansible.cfg define. */
function inventoryNames(inv: Inventory, opts: Pick<RunOptions, 'extraVars' | 'defaultVars'>): string[] {
  return [
    ...[...inv.hosts.values()].flatMap((h) => Object.keys(h.vars)),
    ...[...inv.groups.values()].flatMap((g) => Object.keys(g.vars)),
    ...Object.keys(opts.extraVars),
    ...Object.keys(opts.defaultVars ?? {}),
  ];
}

/**
 * Before any connection: a variable defined nowhere is a load error naming where it is used (file:line).
 * Returns why nothing could be said, when names may come from somewhere the check cannot read.
 */
export function checkUndefinedVariables(pb: Playbook, inv: Inventory, opts: Pick<RunOptions, 'extraVars' | 'defaultVars'>): string | undefined {
  const { uses, openBecause } = findUndefined(pb, inventoryNames(inv, opts));
  const first = uses[0];
  if (!first) return openBecause;
  const guess = (u: UndefinedUse) => (u.didYouMean ? ` (did you mean '${u.didYouMean}'?)` : '');
  const others = uses.slice(1).map((u) => `'${u.name}'${guess(u)} at ${formatPosition(u.pos)}`);
  throw new ParseError(
    `'${first.name}' is defined nowhere${guess(first)}: no vars, vars_files, inventory, role, register, set_fact, include_vars, loop or fact defines it${others.length ? `; also ${others.join(', ')}` : ''}`,
    first.pos,
    'Define it (vars, inventory, -e), or guard it with `is defined` or `| default(...)`. Nothing ran.',
  );
}
