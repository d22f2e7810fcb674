import { ParseError, type Position } from '../core/errors.js';

/** `serial:` of a play or a block: numbers, percentages, or a list of them (templated ones are decided at run time). */
export function parseSerial(v: unknown, pos: Position): (number | string)[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x === 'number' && x > 0) return x;
    if (typeof x === 'string' && /^\d+%$/.test(x.trim())) return x.trim();
    if (typeof x === 'string' && /^\d+$/.test(x.trim())) return Number(x);
    if (typeof x === 'string' && x.includes('{{')) return x; // templated: checked when the play starts
    throw new ParseError(`serial: '${String(x)}' is not a number or a percentage`, pos);
  });
}

/** `max_fail_percentage:` as a number (a trailing % is allowed, as Ansible reads it). */
export function parseMaxFailPercentage(v: unknown): number | undefined {
  return v === undefined || v === null ? undefined : Number(String(v).replace('%', ''));
}
