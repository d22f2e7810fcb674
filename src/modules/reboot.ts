import { errorMessage } from '../core/errors.js';
import { shellJoin } from '../transport/quote.js';
import { ModuleFailure, type Module, type ModuleContext } from './types.js';

/**
 * wait_for_connection and reboot, as Ansible's action plugins: both log in again to the host (orch's
 * connection and command runner are replaced), reboot compares the boot id before and after.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secondsSince = (start: number) => Math.floor((Date.now() - start) / 1000);

function connection(ctx: ModuleContext): NonNullable<ModuleContext['connection']> {
  if (!ctx.connection) throw new ModuleFailure('this task has no connection to reset');
  return ctx.connection;
}

function nonNegative(p: Record<string, unknown>, key: string, dflt: number): number {
  const v = Number(p[key] ?? dflt);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

export const waitForConnection: Module = {
  name: 'wait_for_connection',
  local: true,
  spec: {
    params: {
      connect_timeout: { type: 'int', support: 'full', default: 5 },
      delay: { type: 'int', support: 'full', default: 0 },
      sleep: { type: 'int', support: 'full', default: 1 },
      timeout: { type: 'int', support: 'full', default: 600 },
    },
  },
  async run(ctx, p) {
    if (ctx.check) return { changed: false, skipped: true, failed: false };
    const conn = connection(ctx);
    const start = Date.now();
    await sleep(Number(p.delay) * 1000);
    const end = Date.now() + Number(p.timeout) * 1000;
    let error: unknown;
    while (Date.now() < end) {
      try {
        // Ansible resets the connection before each try, then runs its ping module
        await conn.reset(Number(p.connect_timeout) * 1000);
        const r = await ctx.run('true');
        if (r.rc !== 0) throw new Error('ping test failed');
        return { changed: false, elapsed: secondsSince(start) };
      } catch (err) {
        error = err;
        await sleep(Number(p.sleep) * 1000);
      }
    }
    return {
      changed: false,
      failed: true,
      elapsed: secondsSince(start),
      msg: `timed out waiting for ping module test: ${errorMessage(error)}`,
    };
  },
};

const DEFAULT_SEARCH_PATHS = ['/sbin', '/bin', '/usr/sbin', '/usr/bin', '/usr/local/sbin'];

/** Ansible's retry pace: 2^n s plus up to 1 s of jitter, at most ~12 s, until the deadline. */
async function untilSuccess(what: string, timeoutS: number, attempt: () => Promise<void>): Promise<void> {
  const end = Date.now() + timeoutS * 1000;
  for (let fails = 0; Date.now() < end; fails++) {
    try {
      return await attempt();
    } catch {
      const jitter = Math.random();
      await sleep(Math.min(2 ** fails + jitter, 12 + jitter) * 1000);
    }
  }
  throw new TimedOut(`Timed out waiting for ${what} (timeout=${timeoutS})`);
}

class TimedOut extends Error {}

async function bootTime(ctx: ModuleContext, command: string): Promise<string> {
  const r = await ctx.run(command);
  if (r.rc !== 0)
    throw new ModuleFailure(
      `reboot: failed to get host boot time info, rc: ${r.rc}, stdout: ${r.stdout}, stderr: ${r.stderr}`,
    );
  return r.stdout.trim();
}

/** The shutdown binary: an absolute reboot_command's own, else the first found in search_paths. */
async function shutdownPath(ctx: ModuleContext, bin: string, paths: string[]): Promise<string> {
  if (bin.startsWith('/')) return bin;
  const r = await ctx.run(
    `for d in ${shellJoin(paths)}; do if [ -e "$d"/${shellJoin([bin])} ]; then printf '%s\\n' "$d"/${shellJoin([bin])}; break; fi; done`,
  );
  const found = r.stdout.trim();
  if (!found)
    throw new ModuleFailure(
      `Unable to find command "${bin}" in search paths: ${JSON.stringify(paths).replace(/"/g, "'")}`,
    );
  return found;
}

export const reboot: Module = {
  name: 'reboot',
  local: true,
  spec: {
    params: {
      reboot_timeout: { type: 'int', support: 'full', default: 600 },
      connect_timeout: { type: 'int', support: 'full' },
      pre_reboot_delay: { type: 'int', support: 'full', default: 0 },
      post_reboot_delay: { type: 'int', support: 'full', default: 0 },
      test_command: { type: 'str', support: 'full', default: 'whoami' },
      msg: { type: 'str', support: 'full', default: 'Reboot initiated by Ansible' },
      reboot_command: { type: 'str', support: 'full' },
      boot_time_command: { type: 'str', support: 'full', default: 'cat /proc/sys/kernel/random/boot_id' },
      search_paths: { type: 'list', support: 'full', elements: 'str', default: DEFAULT_SEARCH_PATHS },
    },
  },
  async run(ctx, p) {
    const conn = connection(ctx);
    if (conn.isLocal())
      return {
        changed: false,
        elapsed: 0,
        rebooted: false,
        failed: true,
        msg: 'Running reboot with local connection would reboot the control node.',
      };
    if (ctx.check) return { changed: true, elapsed: 0, rebooted: true };
    const preDelay = nonNegative(p, 'pre_reboot_delay', 0);
    const given = p.reboot_command === undefined ? undefined : String(p.reboot_command);
    // as Ansible on Linux: `shutdown -r MINUTES "msg"` (a pre_reboot_delay under a minute is 0)
    const bin = given === undefined ? 'shutdown' : (given.split(' ')[0] ?? '');
    const args =
      given === undefined
        ? `-r ${Math.floor(preDelay / 60)} ${shellJoin([String(p.msg)])}`
        : given.includes(' ')
          ? given.slice(given.indexOf(' ') + 1)
          : '';
    const bootCommand = String(p.boot_time_command);
    let before: string;
    try {
      before = await bootTime(ctx, bootCommand);
    } catch (err) {
      return { changed: false, failed: true, reboot: false, msg: errorMessage(err) };
    }
    const command = `${await shutdownPath(ctx, bin, (p.search_paths as string[]).map(String))} ${args}`;
    let rc: number;
    let out = { stdout: '', stderr: '' };
    try {
      const r = await ctx.run(command);
      ({ rc } = r);
      out = r;
    } catch {
      rc = 0; // the connection went down with the host: the reboot began
    }
    const start = Date.now();
    if (rc !== 0)
      return {
        changed: false,
        failed: true,
        rebooted: false,
        elapsed: 0,
        msg: `Reboot command failed. Error was: '${out.stdout.trim()}, ${out.stderr.trim()}'`,
      };
    await sleep(nonNegative(p, 'post_reboot_delay', 0) * 1000);
    const timeout = Number(p.reboot_timeout);
    const connectMs = p.connect_timeout === undefined ? undefined : Number(p.connect_timeout) * 1000;
    try {
      await untilSuccess('last boot time check', timeout, async () => {
        await conn.reset(connectMs);
        const now = await bootTime(ctx, bootCommand);
        if (now === '' || now === before) throw new Error('boot time has not changed');
      });
      await untilSuccess('post-reboot test command', timeout, async () => {
        const r = await ctx.run(String(p.test_command)).catch(async (err: unknown) => {
          await conn.reset().catch(() => undefined);
          throw err;
        });
        if (r.rc !== 0) throw new Error(`Test command failed: ${r.stderr} ${r.stdout}`);
      });
    } catch (err) {
      if (!(err instanceof TimedOut)) throw err;
      return { changed: false, failed: true, rebooted: true, elapsed: secondsSince(start), msg: err.message };
    }
    return { changed: true, rebooted: true, elapsed: secondsSince(start) };
  },
};
