import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../core/errors.js';
import { inventoryName, resolveInventoryPath } from '../../inventory/load.js';
import { forceReleaseLock, readHolder } from '../../executor/lock.js';
import { describeHolder, forceReleaseRemoteLocks, readRemoteLocks, REMOTE_LOCK_FILE, type RemoteLockHolder } from '../../executor/remote-lock.js';
import { EXIT, newRunState, targetHosts } from '../../executor/run.js';
import { STATE_DIR } from './apply.js';

const FLAGS = {
  hosts: { type: 'string', default: 'all' },
  local: { type: 'boolean', default: false },
  'accept-new-host-keys': { type: 'boolean', default: false },
  'connect-timeout': { type: 'string', default: '10' },
} as const;

function remoteLine(host: string, v: RemoteLockHolder | undefined | Error, verb: string): string {
  if (v instanceof Error) return `  ${host}: unreachable (${v.message})\n`;
  return v ? `  ${host}: ${verb} ${describeHolder(v)}\n` : `  ${host}: not locked\n`;
}

/**
 * `orch lock status|release INVENTORY`: the run lock on this machine, and the deploy lock file on the
 * hosts (written by deploy, rollback and restart; --hosts narrows which hosts are asked, --local skips them).
 */
export async function lockCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: FLAGS, allowPositionals: true });
  const [sub, arg] = positionals;
  if ((sub !== 'status' && sub !== 'release') || !arg) throw new UsageError('usage: orch lock status|release INVENTORY [--hosts PATTERN] [--local]');
  // The same INVENTORY argument as `orch apply`; a bare lock name still works for the local lock.
  const path = values.local ? undefined : resolveInventoryPath(arg);
  const name = path ? inventoryName(path) : inventoryName(arg);
  const dir = resolve(STATE_DIR);
  const out = (s: string) => process.stdout.write(s);
  if (sub === 'status') {
    const h = readHolder(dir, name);
    out(h ? `${name}: locked here by ${h.user}@${h.host} pid ${h.pid} since ${h.since}: ${h.command}\n` : `${name}: not locked\n`);
  } else {
    const h = forceReleaseLock(dir, name);
    out(h ? `released lock held by ${h.user}@${h.host} pid ${h.pid} (${h.command})\n` : `${name}: was not locked\n`);
  }
  if (!path) return EXIT.ok;
  const rs = newRunState(
    path,
    { check: false, diff: false, forks: 50, tags: [], skipTags: [], extraVars: {}, verbose: 0, acceptNewHostKeys: values['accept-new-host-keys'], connectTimeoutMs: Number(values['connect-timeout']) * 1000 },
    () => undefined,
    {},
    process.cwd(),
  );
  try {
    const hosts = targetHosts(rs, values.hosts);
    const found = sub === 'status' ? await readRemoteLocks(rs, hosts) : await forceReleaseRemoteLocks(rs, hosts);
    out(`deploy lock (${REMOTE_LOCK_FILE}) on the hosts:\n`);
    for (const host of hosts) out(remoteLine(host, found.get(host), sub === 'status' ? 'locked by' : 'released, was held by'));
  } finally {
    await rs.pool.closeAll();
  }
  return EXIT.ok;
}
