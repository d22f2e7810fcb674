import { NotImplementedError, ParseError } from '../core/errors.js';
import { LINEAR_COMPATIBLE_STRATEGIES } from '../playbook/keywords.js';
import type { Play } from '../playbook/model.js';
import { renderValue } from '../template/env.js';
import { VarScope } from '../template/scope.js';
import type { PlayContext } from './play-context.js';

/* A play's hosts: serial batches, max_fail_percentage, order, and keywords checked when the play starts. */

/** serial values after templating: numbers or percentages. */
export function renderSerial(serial: (number | string)[], scope: VarScope, pos: Play['pos']): (number | string)[] {
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

/** Play keywords orch does not implement fail the play here, when it is reached (not at load). */
export function checkPlayKeywords(pc: PlayContext, strategy: string): void {
  const { play, rs } = pc;
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
