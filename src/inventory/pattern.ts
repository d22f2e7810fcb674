import { UsageError } from '../core/errors.js';
import { globToRegExp, hasWildcards } from '../core/glob.js';
import type { Inventory } from './model.js';

/** Ansible matches host patterns with fnmatch: `[...]` is a character class. */
const FNMATCH = { classes: true };

function matchOne(inv: Inventory, term: string): string[] {
  if (term === 'all' || term === '*') return [...inv.order];
  if (inv.groups.has(term)) return inv.hostsOf(term);
  if (inv.hosts.has(term)) return [term];
  if (term.startsWith('~')) {
    const re = new RegExp(term.slice(1));
    return inv.order.filter((h) => re.test(h));
  }
  // Ansible's subscripts (inventory/manager.py _split_subscript): `web[0]`, `web[-1]` one host of what `web`
  // matches, by position; `web[0:2]`, `web[1:]` (and the old `web[0-2]`) a slice, both ends included
  const sub = /^(.+)\[(?:(-?\d+)|(\d+)[:-](\d*))\]$/.exec(term);
  if (sub) {
    const hosts = matchOne(inv, sub[1] as string);
    const i = Number(sub[2] ?? sub[3]);
    const end = sub[3] === undefined ? undefined : sub[4] === '' ? hosts.length - 1 : Number(sub[4]);
    if (end) return hosts.slice(i, end + 1); // as Ansible: a range ending at 0 (`[2:0]`) is a single index
    const h = hosts[i < 0 ? hosts.length + i : i];
    return h === undefined ? [] : [h];
  }
  if (hasWildcards(term, FNMATCH)) {
    const re = globToRegExp(term, FNMATCH);
    const fromGroups = [...inv.groups.keys()].filter((g) => re.test(g)).flatMap((g) => inv.hostsOf(g));
    return inv.order.filter((h) => re.test(h) || fromGroups.includes(h));
  }
  return [];
}

/** The error for a term of a host pattern that matches nothing. */
export function noMatch(inv: Inventory, pattern: string, what: string, term: string): UsageError {
  return new UsageError(`host ${what} '${pattern}': '${term}' matches no host or group in ${inv.source}`, {
    hint: `Known groups: ${[...inv.groups.keys()].filter((g) => g !== 'ungrouped').join(', ')}.`,
  });
}

/**
 * Ansible host patterns: `web:db` or `web,db` (union), `web:&prod` (and), `web:!web1` (except), globs,
 * `~regex`. Returns hosts in inventory order. A term that matches nothing is an error, naming it, unless
 * onNoMatch takes it (a play's pattern: groups made by group_by/add_host exist only at run time). With
 * `implicitLocalhost`, a term naming localhost the inventory lacks is that host (last in the order).
 */
export function selectHosts(
  inv: Inventory,
  pattern: string,
  what = 'pattern',
  onNoMatch?: (term: string) => void,
  implicitLocalhost = false,
): string[] {
  // as Ansible's split_host_pattern: a `:` inside brackets (a subscript `web[0:2]`) does not split
  const terms = pattern.split(',').flatMap((part) => part.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? []);
  if (terms.length === 0) throw new UsageError(`empty host ${what}`);
  let selected = new Set<string>();
  const implicitHosts = new Set<string>();
  terms.forEach((raw, i) => {
    const op = raw.startsWith('&') ? '&' : raw.startsWith('!') ? '!' : '|';
    const term = op === '|' ? raw : raw.slice(1);
    const implicit = implicitLocalhost && inv.isImplicitLocalhost(term);
    if (implicit) implicitHosts.add(term);
    const hosts = implicit ? [term] : matchOne(inv, term);
    if (hosts.length === 0 && op !== '!' && onNoMatch) onNoMatch(term);
    else if (hosts.length === 0 && op !== '!') throw noMatch(inv, pattern, what, term);
    if (op === '|') selected = i === 0 ? new Set(hosts) : new Set([...selected, ...hosts]);
    else if (op === '&') selected = new Set([...selected].filter((h) => hosts.includes(h)));
    else selected = new Set([...selected].filter((h) => !hosts.includes(h)));
  });
  return [...inv.order, ...implicitHosts].filter((h) => selected.has(h));
}
