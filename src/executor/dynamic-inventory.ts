import { emptyStats } from '../core/events.js';
import type { InventoryEditor } from '../modules/types.js';
import { HostState, type RunState } from './state.js';

/** What add_host and group_by change: the run's inventory, and a state for each host they add. */
export function inventoryEditor(rs: RunState, source: string): InventoryEditor {
  return {
    addHost(name, groups, vars) {
      rs.secrets.registerPasswordVars(vars);
      const changed = rs.inv.addDynamicHost(name, groups, vars, source);
      if (!rs.hosts.has(name)) rs.hosts.set(name, new HostState(name, emptyStats()));
      return changed;
    },
    groupBy: (host, group, parents) => rs.inv.addDynamicGroup(host, group, parents, source),
  };
}
