import { ModuleFailure, type Module } from './types.js';

/**
 * add_host and group_by change the run's in-memory inventory (as Ansible's action plugins and strategy do):
 * later tasks and plays see the hosts, groups and host vars. `changed` is the inventory's answer.
 */

/** Ansible's parse_address for `name:port` and `[v6]:port`; anything else is a name as it is. */
function splitPort(name: string): { name: string; port?: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(name) ?? /^([^:[\]]+):(\d+)$/.exec(name);
  if (!m) return { name };
  return m[2] === undefined ? { name: m[1] as string } : { name: m[1] as string, port: Number(m[2]) };
}

function groupList(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : undefined;
  if (!list) throw new ModuleFailure('Groups must be specified as a list.');
  const out: string[] = [];
  for (const g of list) if (!out.includes(String(g).trim())) out.push(String(g).trim());
  return out;
}

function editor(ctx: Parameters<Module['run']>[0]) {
  if (!ctx.inventory) throw new ModuleFailure('this task cannot change the inventory here');
  return ctx.inventory;
}

export const addHost: Module = {
  name: 'add_host',
  local: true,
  bypassHostLoop: true,
  spec: { params: {}, anyParams: true },
  async run(ctx, p) {
    const given = p.name ?? p.hostname ?? p.host;
    if (given === undefined || given === null) throw new ModuleFailure('name, host or hostname needs to be provided');
    const { name, port } = splitPort(String(given));
    const vars: Record<string, unknown> = {};
    // as Ansible: every other argument is a host variable (`host` and `group` too: only these four are not)
    for (const [k, v] of Object.entries(p)) if (!['name', 'hostname', 'groupname', 'groups'].includes(k)) vars[k] = v;
    if (port !== undefined) vars.ansible_ssh_port = port;
    const groups = groupList(p.groupname ?? p.groups ?? p.group);
    const changed = editor(ctx).addHost(name, groups, vars);
    return { changed, add_host: { host_name: name, groups, host_vars: vars } };
  },
};

export const groupBy: Module = {
  name: 'group_by',
  local: true,
  spec: {
    params: { key: { type: 'str', support: 'full' }, parents: { type: 'raw', support: 'full', default: ['all'] } },
  },
  async run(ctx, p) {
    if (p.key === undefined)
      return { changed: false, failed: true, msg: "the 'key' param is required when using group_by" };
    const group = String(p.key).replace(/ /g, '-');
    const parents = (Array.isArray(p.parents) ? p.parents : [p.parents]).map((g) => String(g).replace(/ /g, '-'));
    const changed = editor(ctx).groupBy(ctx.host, group, parents);
    return { changed, add_group: group, parent_groups: parents };
  },
};
