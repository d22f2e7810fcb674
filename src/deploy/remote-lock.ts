import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { BecomeError, errorMessage, LockError } from '../core/errors.js';
import { quote } from '../transport/quote.js';
import type { BecomeSettings, Transport } from '../transport/types.js';
import { describeState, holderState } from '../executor/lock.js';
import { becomeAs, buildScope } from '../executor/scope.js';
import type { RunState } from '../executor/state.js';

/**
 * The deploy lock kept on the targets themselves, so two people deploying from two control machines
 * cannot overlap (the local lock only covers one machine). Created with link(2): atomic, and a reader
 * never sees a half-written holder.
 */
export const REMOTE_LOCK_FILE = '/var/lib/orch/deploy.lock';

export interface RemoteLockHolder {
  user: string;
  host: string;
  pid: number;
  since: string;
  command: string;
  message: string;
  token: string;
}

const TAKEN = 'ORCH_LOCK_TAKEN';

const ACQUIRE = [
  `f=${quote(REMOTE_LOCK_FILE)}; d=$(dirname "$f")`,
  'mkdir -p "$d" && t=$(mktemp "$d/.deploy.lock.XXXXXX") && cat > "$t" && chmod 0644 "$t" || exit 1',
  `if ln "$t" "$f" 2>/dev/null; then rm -f "$t"; echo ${TAKEN}; else rm -f "$t"; cat "$f"; exit 3; fi`,
].join('\n');

const READ = `cat ${quote(REMOTE_LOCK_FILE)} 2>/dev/null || true`;

function releaseScript(token: string | undefined): string {
  const f = quote(REMOTE_LOCK_FILE);
  if (token === undefined) return `cat ${f} 2>/dev/null; rm -f ${f}`;
  return `grep -qF ${quote(`"token":"${token}"`)} ${f} 2>/dev/null && rm -f ${f}; true`;
}

export function describeHolder(h: RemoteLockHolder): string {
  return `${h.user}@${h.host} since ${h.since} (${h.command}${h.message ? `: ${h.message}` : ''})`;
}

function unreadable(text: string): RemoteLockHolder {
  return {
    user: '?',
    host: '?',
    pid: 0,
    since: '?',
    command: `unreadable lock file: ${text.slice(0, 80)}`,
    message: '',
    token: '',
  };
}

function parseHolder(text: string): RemoteLockHolder | undefined {
  const t = text.trim();
  if (!t) return undefined;
  try {
    return JSON.parse(t) as RemoteLockHolder;
  } catch {
    return unreadable(t);
  }
}

async function rootShell(rs: RunState, host: string): Promise<{ t: Transport; become: BecomeSettings }> {
  const scope = buildScope(rs, host, undefined, undefined);
  const t = await rs.pool.get(host, scope);
  return { t, become: becomeAs('root', scope) };
}

type LockView = Map<string, RemoteLockHolder | undefined | Error>;

/** Run one script as root on each host; what its output says about the lock (unreachable: an Error). */
async function onEachHost(rs: RunState, hosts: string[], script: string): Promise<LockView> {
  const out: LockView = new Map();
  await Promise.all(
    hosts.map((h) =>
      rs.limit(async () => {
        try {
          const { t, become } = await rootShell(rs, h);
          out.set(h, parseHolder((await t.exec(script, { become })).stdout));
        } catch (err) {
          out.set(h, err instanceof Error ? err : new Error(String(err)));
        }
      }),
    ),
  );
  return out;
}

/** What each host's lock file says (undefined: not locked). */
export function readRemoteLocks(rs: RunState, hosts: string[]): Promise<LockView> {
  return onEachHost(rs, hosts, READ);
}

export interface RemoteRelease {
  holder?: RemoteLockHolder;
  released: boolean;
  /** why it was kept: the holder still runs here, or runs elsewhere and --force was not given */
  kept?: string;
}

/**
 * `orch lock release`: remove each host's lock file unless its holder is a run still going on this
 * machine (never), or on another machine (only with `force`). Removes exactly the holder that was read.
 */
export async function releaseRemoteLocks(
  rs: RunState,
  hosts: string[],
  force: boolean,
): Promise<Map<string, RemoteRelease | Error>> {
  const view = await readRemoteLocks(rs, hosts);
  const out = new Map<string, RemoteRelease | Error>();
  await Promise.all(
    hosts.map((h) =>
      rs.limit(async () => {
        const holder = view.get(h);
        if (holder instanceof Error || holder === undefined) return void out.set(h, holder ?? { released: false });
        const state = holder.token ? holderState(holder) : 'gone';
        if (state === 'running' || (state === 'elsewhere' && !force))
          return void out.set(h, { holder, released: false, kept: describeState(state) });
        try {
          const { t, become } = await rootShell(rs, h);
          await t.exec(releaseScript(holder.token || undefined), { become });
          out.set(h, { holder, released: true });
        } catch (err) {
          out.set(h, err instanceof Error ? err : new Error(String(err)));
        }
      }),
    ),
  );
  return out;
}

/**
 * Take the lock on every host, or on none: when one host is held by someone else, the hosts taken so far
 * are given back and the error names the holder. Unreachable hosts are skipped with a warning (the run
 * reports them unreachable anyway). Returns the function that gives the locks back.
 */
export async function acquireRemoteLocks(
  rs: RunState,
  hosts: string[],
  command: string,
  message: string,
): Promise<() => Promise<void>> {
  const me: RemoteLockHolder = {
    user: userInfo().username,
    host: hostname(),
    pid: process.pid,
    since: new Date().toISOString(),
    command,
    message,
    token: randomUUID(),
  };
  const taken: string[] = [];
  const held: [string, RemoteLockHolder][] = [];
  const failed: [string, string][] = [];
  await Promise.all(
    hosts.map((h) =>
      rs.limit(async () => {
        let r;
        try {
          const { t, become } = await rootShell(rs, h);
          r = await t.exec(ACQUIRE, { become, stdin: `${JSON.stringify(me)}\n` });
        } catch (err) {
          // sudo refused: the lock cannot be taken on a reachable host, so the run must not go on
          if (err instanceof BecomeError) return void failed.push([h, err.message]);
          rs.emit({ type: 'warning', host: h, msg: `deploy lock not taken (${errorMessage(err)})` });
          return;
        }
        if (r.stdout.includes(TAKEN)) taken.push(h);
        else if (r.rc === 3) held.push([h, parseHolder(r.stdout) ?? unreadable('(removed while we looked)')]);
        else failed.push([h, (r.stderr || r.stdout).trim()]);
      }),
    ),
  );
  const release = async () => {
    await Promise.all(
      taken.map((h) =>
        rs.limit(async () => {
          try {
            const { t, become } = await rootShell(rs, h);
            await t.exec(releaseScript(me.token), { become });
          } catch (err) {
            rs.emit({
              type: 'warning',
              host: h,
              msg: `could not remove the deploy lock ${REMOTE_LOCK_FILE}: ${errorMessage(err)}`,
            });
          }
        }),
      ),
    );
  };
  if (held.length > 0 || failed.length > 0) {
    await release();
    const [h, holder] = held[0] ?? [];
    if (h && holder) {
      throw new LockError(
        `deploy lock on ${h} (${REMOTE_LOCK_FILE}) is held by ${describeHolder(holder)}${held.length > 1 ? ` (and on ${held.length - 1} more hosts)` : ''}`,
        {
          hint: 'Someone else is deploying to these hosts. Wait for them; if that run is dead, `orch lock release INVENTORY` removes the lock.',
        },
      );
    }
    const [fh, why] = failed[0] ?? ['?', ''];
    throw new LockError(`could not create the deploy lock ${REMOTE_LOCK_FILE} on ${fh}: ${why}`, {
      hint: 'The lock needs root (sudo) on the target and a writable /var/lib.',
    });
  }
  return release;
}
