import { quote } from '../transport/quote.js';
import { buildScope } from '../executor/scope.js';
import type { RunState } from '../executor/state.js';

/**
 * A playbook that sets the fact `orch_release_link` (a symlink such as app_root/current) on its hosts gets,
 * at the end of the run, whatever or however it ended, the release each host runs: read from the target.
 */
export async function reportReleases(rs: RunState): Promise<void> {
  const releases: Record<string, string> = {};
  await Promise.all(
    [...rs.hosts].map(([h, hs]) =>
      rs.limit(async () => {
        const link = hs.runtime.orch_release_link;
        if (typeof link !== 'string' || hs.unreachable) return;
        try {
          const t = await rs.pool.get(h, buildScope(rs, h, undefined, undefined));
          const r = await t.exec(`basename "$(readlink -f ${quote(link)})"`);
          releases[h] = r.rc === 0 ? r.stdout.trim() : '?';
        } catch {
          releases[h] = '?';
        }
      }),
    ),
  );
  if (Object.keys(releases).length > 0) rs.emit({ type: 'releases', releases });
}
