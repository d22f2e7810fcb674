import { becomeArgv, becomeIds, type BecomeIds } from './become.js';
import { ModuleError } from '../core/errors.js';
import { quote, shellJoin } from './quote.js';
import type { ExecOptions } from './types.js';

/** The exit code a command gets when its timeout kills it (as coreutils `timeout`). */
export const TIMEOUT_RC = 124;

/**
 * Turn a module's command and exec options into the one shell string sent to the host:
 * cwd, env, timeout and become are applied here and nowhere else. With become, `ids` are the
 * handshake's prompt and marker (become.ts): the caller answers the prompt and waits for the marker.
 */
export function wrapCommand(command: string, opts: ExecOptions = {}): { command: string; ids?: BecomeIds } {
  let cmd = command;
  if (opts.cwd) cmd = `cd ${quote(opts.cwd)} && ${cmd}`;
  if (opts.env && Object.keys(opts.env).length > 0) {
    const assigns = Object.entries(opts.env).map(([k, v]) => {
      // a name is written as is (`export K=`): only a shell identifier may get there
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
        throw new ModuleError(
          `environment: ${JSON.stringify(k)} is not a valid variable name (letters, digits and _, not starting with a digit)`,
        );
      return `export ${k}=${quote(v)};`;
    });
    cmd = `${assigns.join(' ')} ${cmd}`;
  }
  let argv = ['/bin/sh', '-c', cmd];
  if (opts.timeoutMs !== undefined) {
    const secs = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
    argv = ['timeout', '-k', '5', String(secs), ...argv];
  }
  if (!opts.become) return { command: shellJoin(argv) };
  const ids = becomeIds();
  return { command: shellJoin(becomeArgv(argv, opts.become, ids)), ids };
}
