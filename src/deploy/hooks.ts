import type { RunHooks } from '../executor/run.js';
import { targetHosts } from '../executor/run.js';
import { reportReleases } from './releases.js';
import { acquireRemoteLocks } from './remote-lock.js';

/**
 * deploy, rollback and restart: the deploy lock file held on the hosts they touch (PATTERN, within --limit and
 * --shard) for the whole run, and at the end, however the run ended, the release each host runs.
 */
export function deployHooks(pattern: string, command: string, message: string): RunHooks {
  let hosts: string[] = [];
  let releaseLocks: (() => Promise<void>) | undefined;
  return {
    prepare(rs) {
      hosts = targetHosts(rs, pattern);
    },
    async start(rs) {
      releaseLocks = await acquireRemoteLocks(rs, hosts, command, message);
    },
    async finish(rs) {
      await reportReleases(rs).catch(() => undefined);
      await releaseLocks?.();
    },
  };
}
