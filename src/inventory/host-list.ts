import { existsSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { Inventory } from './model.js';

/**
 * Ansible's host_list inventory: `-i 'web1,web2:2222,[::1]:23,'` (a comma makes it a list; a lone host needs
 * a trailing comma). Used when no file or directory of that name exists.
 */
export function isHostList(arg: string): boolean {
  return arg.includes(',') && !existsSync(arg);
}

/** Each item: a name or address, with `:port` (IPv6 in brackets when it has a port). */
export function parseHostListItem(item: string): { name: string; port?: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(item) ?? /^([^:\s]+):(\d+)$/.exec(item);
  const name = m ? (m[1] as string) : item;
  if (name === '' || /\s/.test(name)) throw new UsageError(`cannot read host '${item}' in the host list`);
  return m ? { name, port: Number(m[2]) } : { name };
}

/** Adds the list's hosts (to `ungrouped`, as Ansible) and their ports. */
export function loadHostList(inv: Inventory, list: string): void {
  for (const item of list.split(',').map((s) => s.trim())) {
    if (item === '') continue;
    const { name, port } = parseHostListItem(item);
    const host = inv.host(name);
    if (port !== undefined) host.vars.ansible_port = port;
  }
}
