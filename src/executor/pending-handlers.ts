import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Play } from '../playbook/model.js';
import { perlString } from '../modules/probe.js';
import { perlProbe } from '../transport/probe-command.js';
import { quote } from '../transport/quote.js';
import { buildScope } from './scope.js';
import type { RunState } from './state.js';

/**
 * Handlers notified on a host whose run then failed or was interrupted are not lost: their names are
 * kept on the target (in the connecting user's home, no sudo needed) and, the next time the same play runs,
 * notified again when its batch starts (handlers.ts restorePending), so they run at the play's first flush:
 * the end of pre_tasks (even when it has none), before roles and tasks. The change that notified them is
 * already on the host. Keyed by playbook file name and play name, so another play never picks them up.
 */
const DIR = '"$HOME"/.orch/pending-handlers';

export function pendingKey(play: Play): string {
  return createHash('sha1')
    .update(`${basename(play.pos.file)}\0${play.name}`)
    .digest('hex')
    .slice(0, 16);
}

async function exec(rs: RunState, host: string, command: string, stdin?: string) {
  const t = await rs.pool.get(host, buildScope(rs, host, undefined, undefined));
  return t.exec(command, stdin === undefined ? {} : { stdin });
}

/** Names stored by an earlier run (empty when none). */
export async function loadPending(rs: RunState, host: string, key: string): Promise<string[]> {
  // a probe: read inside the command runner, no process (it runs as the connecting user: its HOME)
  const r = await exec(
    rs,
    host,
    perlProbe(
      `if (open(my $f, "<", "$ENV{HOME}/.orch/pending-handlers/" . ${perlString(key)})) { local $/; print <$f> // ""; close $f; }`,
    ),
  );
  try {
    const names = JSON.parse(r.stdout.trim() || '[]') as unknown;
    return Array.isArray(names) ? names.map(String) : [];
  } catch {
    return [];
  }
}

/** Store the names (atomically: a new file renamed over the old one). */
export async function savePending(rs: RunState, host: string, key: string, names: string[]): Promise<void> {
  const f = `${DIR}/${quote(key)}`;
  await exec(rs, host, `umask 077 && mkdir -p ${DIR} && cat > ${f}.tmp && mv -f ${f}.tmp ${f}`, JSON.stringify(names));
}

export async function clearPending(rs: RunState, host: string, key: string): Promise<void> {
  await exec(rs, host, `rm -f ${DIR}/${quote(key)}`);
}
