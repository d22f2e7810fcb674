import type { Block } from '../playbook/model.js';
import { buildScope } from './scope.js';
import type { PlayContext } from './play-context.js';
import { batches, renderSerial, serialStop } from './batches.js';
import { addRoles } from './includes.js';

/* block / rescue / always, and orch's per-block serial. */

/**
 * A block with `serial:` (orch's per-block serial) runs on one batch of hosts at a time, the rest of the
 * play keeps its parallelism; max_fail_percentage (or a whole batch failing) stops the play, as play serial.
 */
export async function runBlock(pc: PlayContext, b: Block, hosts: string[]): Promise<Set<string>> {
  if (b.serial.length === 0 || hosts.length === 0) return runBlockOn(pc, b, hosts);
  const scope = buildScope(pc.rs, hosts[0] as string, pc.pv, undefined);
  const groups = batches(hosts, renderSerial(b.serial, scope, b.pos));
  const failed = new Set<string>();
  for (const [i, group] of groups.entries()) {
    if (pc.stopping) break;
    pc.rs.emit({ type: 'batch_start', index: i + 1, total: groups.length, hosts: group, block: b.name });
    const f = await runBlockOn(pc, b, pc.active(group));
    for (const h of f) failed.add(h);
    const why = serialStop(f.size, group.length, b.maxFailPercentage, i < groups.length - 1);
    if (why) {
      pc.rs.emit({ type: 'warning', msg: `block '${b.name}': ${why}: stopping the play` });
      pc.aborted = true;
    }
  }
  return failed;
}

export async function runBlockOn(pc: PlayContext, b: Block, hosts: string[]): Promise<Set<string>> {
  const { rs } = pc;
  // once per play run, as Ansible adds the role to the play once per include
  if (b.publish && !pc.published.has(b)) {
    pc.published.add(b);
    addRoles(pc.play, b.publish);
  }
  const failedInBlock = await pc.runItems(b.block, hosts);
  let stillFailed = new Set([...failedInBlock].filter((h) => !rs.hosts.get(h)?.unreachable));
  if (b.rescue.length > 0 && stillFailed.size > 0) {
    for (const h of stillFailed) {
      const hs = rs.hosts.get(h);
      if (!hs) continue;
      hs.failed = false;
      // as Ansible's recap: a rescued failure counts as rescued, not failed
      hs.stats.failed = Math.max(0, hs.stats.failed - 1);
      hs.stats.rescued++;
    }
    stillFailed = await pc.runItems(b.rescue, [...stillFailed]);
  }
  if (b.always.length > 0) {
    const alwaysHosts = hosts.filter((h) => !rs.hosts.get(h)?.unreachable && !rs.hosts.get(h)?.ended);
    // always runs even for hosts that failed in block/rescue; they stay failed afterwards, unless a
    // `meta: clear_host_errors` in always cleared their errors (meta.ts): then they go on after the block
    const wasFailed = alwaysHosts.flatMap((h) => {
      const hs = rs.hosts.get(h);
      return hs?.failed ? [hs] : [];
    });
    for (const hs of wasFailed) {
      hs.failed = false;
      hs.failedBeforeAlways = true;
    }
    const f = await pc.runItems(b.always, alwaysHosts);
    for (const hs of wasFailed) {
      if (hs.failedBeforeAlways) hs.failed = true;
      hs.failedBeforeAlways = false;
    }
    for (const h of f) stillFailed.add(h);
    stillFailed = new Set([...stillFailed].filter((h) => rs.hosts.get(h)?.failed || rs.hosts.get(h)?.unreachable));
  }
  return stillFailed;
}
