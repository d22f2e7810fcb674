import { ModuleError } from '../core/errors.js';
import { quote, shellJoin } from './quote.js';
import type { ExecOptions } from './types.js';

/** The exit code a command gets when its timeout kills it (as coreutils `timeout`). */
export const TIMEOUT_RC = 124;

/**
 * Turn a module's command and exec options into the one shell string sent to the host:
 * cwd, env, timeout and sudo are applied here and nowhere else.
 */
export function wrapCommand(command: string, opts: ExecOptions = {}): { command: string; stdinPrefix: string } {
  let cmd = command;
  if (opts.cwd) cmd = `cd ${quote(opts.cwd)} && ${cmd}`;
  if (opts.env && Object.keys(opts.env).length > 0) {
    const assigns = Object.entries(opts.env).map(([k, v]) => {
      // a name is written as is (`export K=`): only a shell identifier may get there
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new ModuleError(`environment: ${JSON.stringify(k)} is not a valid variable name (letters, digits and _, not starting with a digit)`);
      return `export ${k}=${quote(v)};`;
    });
    cmd = `${assigns.join(' ')} ${cmd}`;
  }
  let argv = ['/bin/sh', '-c', cmd];
  if (opts.timeoutMs !== undefined) {
    const secs = Math.max(1, Math.ceil(opts.timeoutMs / 1000));
    argv = ['timeout', '-k', '5', String(secs), ...argv];
  }
  let stdinPrefix = '';
  if (opts.become) {
    // -H: root's HOME; -n: never wait for a prompt that nobody sees; -S -p '': password on stdin, no prompt text.
    const auth = opts.become.password !== undefined ? ['-S', '-p', ''] : ['-n'];
    argv = ['sudo', '-H', ...auth, '-u', opts.become.user, '--', ...argv];
    if (opts.become.password !== undefined) stdinPrefix = `${opts.become.password}\n`;
  }
  return { command: shellJoin(argv), stdinPrefix };
}

/** sudo's own failure messages, turned into advice. Returns undefined when the failure is not sudo's. */
export function explainSudoFailure(stderr: string): string | undefined {
  if (/a password is required|no password was provided|incorrect password attempt|Sorry, try again/i.test(stderr)) {
    return 'sudo refused: a password is required or it was wrong. Set ansible_become_password (vaulted) or allow NOPASSWD for this user.';
  }
  if (/you must have a tty/i.test(stderr)) {
    return 'sudo requires a TTY on this host (Defaults requiretty). Remove requiretty for this user in sudoers; orch never allocates a TTY.';
  }
  if (/is not in the sudoers file|not allowed to execute/i.test(stderr)) {
    return 'this user may not use sudo on this host. Grant it in sudoers, or set become: false.';
  }
  return undefined;
}
