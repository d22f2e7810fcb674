import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LockError, UsageError } from '../../core/errors.js';
import type { Secrets } from '../../core/secrets.js';
import { inventoryName, resolveInventoryPath } from '../../inventory/load.js';
import { describeState, holderState, lockName, readHolder, releaseLock } from '../../executor/lock.js';
import { parseShard } from '../../inventory/shard.js';
import {
  describeHolder,
  readRemoteLocks,
  releaseRemoteLocks,
  REMOTE_LOCK_FILE,
  type RemoteLockHolder,
  type RemoteRelease,
} from '../../deploy/remote-lock.js';
import { EXIT, newRunState, targetHosts } from '../../executor/run.js';
import { STATE_DIR } from './apply.js';
import { configureVault, VAULT_FLAGS } from '../vault-options.js';

const FLAGS = {
  hosts: { type: 'string', default: 'all' },
  /** the lock of one shard of the inventory (--shard I/N of apply/deploy) */
  shard: { type: 'string' },
  local: { type: 'boolean', default: false },
  'accept-new-host-keys': { type: 'boolean', default: false },
  'connect-timeout': { type: 'string', default: '10' },
  /** release a lock held from another machine (after checking there); never a run still going here */
  force: { type: 'boolean', default: false },
  ...VAULT_FLAGS,
} as const;

function statusLine(host: string, v: RemoteLockHolder | undefined | Error): string {
  if (v instanceof Error) return `  ${host}: unreachable (${v.message})\n`;
  return v
    ? `  ${host}: locked by ${describeHolder(v)}${v.token ? ` pid ${v.pid}: ${describeState(holderState(v))}` : ''}\n`
    : `  ${host}: not locked\n`;
}

function releaseLine(host: string, v: RemoteRelease | Error | undefined): string {
  if (v instanceof Error) return `  ${host}: unreachable (${v.message})\n`;
  if (!v?.holder) return `  ${host}: not locked\n`;
  if (v.released) return `  ${host}: released, was held by ${describeHolder(v.holder)}\n`;
  return `  ${host}: NOT released: held by ${describeHolder(v.holder)} pid ${v.holder.pid}, ${v.kept ?? ''}\n`;
}

/**
 * `orch lock status|release INVENTORY`: the run lock on this machine, and the deploy lock file on the
 * hosts (written by deploy, rollback and restart; --hosts narrows which hosts are asked, --local skips them).
 */
export async function lockCommand(argv: string[], secrets: Secrets): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: FLAGS, allowPositionals: true });
  const [sub, arg] = positionals;
  if ((sub !== 'status' && sub !== 'release') || !arg)
    throw new UsageError(
      'usage: orch lock status|release INVENTORY [--shard I/N] [--hosts PATTERN] [--local] [--force] [--vault-password-file F]',
    );
  // The same INVENTORY argument as `orch apply`; a bare lock name still works for the local lock.
  const path = values.local ? undefined : resolveInventoryPath(arg);
  const name = lockName(
    path ? inventoryName(path) : inventoryName(arg),
    values.shard === undefined ? undefined : parseShard(values.shard),
  );
  const dir = resolve(STATE_DIR);
  const out = (s: string) => process.stdout.write(s);
  if (sub === 'status') {
    const h = readHolder(dir, name);
    out(
      h
        ? `${name}: locked here by ${h.user}@${h.host} pid ${h.pid} since ${h.since}: ${h.command} (${describeState(holderState(h))})\n`
        : `${name}: not locked\n`,
    );
  } else {
    // refuses (LockError) while the holder runs: the hosts' locks are then left alone too
    const h = releaseLock(dir, name, values.force);
    out(
      h
        ? `released lock held by ${h.user}@${h.host} pid ${h.pid} since ${h.since} (${h.command}): ${describeState(holderState(h))}\n`
        : `${name}: was not locked\n`,
    );
  }
  if (!path) return EXIT.ok;
  // the inventory's group_vars may be vault files (the production inventory's become password)
  await configureVault(secrets, values);
  const rs = newRunState(
    path,
    {
      check: false,
      diff: false,
      forks: 50,
      tags: [],
      skipTags: [],
      extraVars: {},
      verbose: 0,
      acceptNewHostKeys: values['accept-new-host-keys'],
      connectTimeoutMs: Number(values['connect-timeout']) * 1000,
    },
    () => undefined,
    {},
    process.cwd(),
    secrets,
  );
  try {
    const hosts = targetHosts(rs, values.hosts);
    out(`deploy lock (${REMOTE_LOCK_FILE}) on the hosts:\n`);
    if (sub === 'status') {
      const found = await readRemoteLocks(rs, hosts);
      for (const host of hosts) out(statusLine(host, found.get(host)));
      return EXIT.ok;
    }
    const done = await releaseRemoteLocks(rs, hosts, values.force);
    for (const host of hosts) out(releaseLine(host, done.get(host)));
    const kept = [...done.values()].filter((v) => !(v instanceof Error) && v.holder && !v.released);
    if (kept.length > 0)
      throw new LockError(
        `${kept.length} deploy lock(s) not released: held by runs that are still running, or run elsewhere`,
        {
          hint: 'A run still going here is never released; for one on another machine, check there, then add --force.',
        },
      );
  } finally {
    await rs.pool.closeAll();
  }
  return EXIT.ok;
}
