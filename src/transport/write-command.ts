import { perlCodeOf, perlCommand } from './probe-command.js';

/**
 * The shell form of a write (modules/file-write.ts): `perl -e '<code>' orch-write`, with the file's bytes on
 * stdin. Anywhere a command runs (exec mode, the local transport) it is an ordinary perl process reading its
 * stdin; the command runner is sent the code and the bytes in a write frame (runner.pl) and evaluates the code
 * in its own process, with the bytes in `$main::ORCH_IN`: a file written with no fork at all on the host.
 */
export const WRITE_SUFFIX = 'orch-write';

/** The shell command for a write. */
export function perlWrite(code: string): string {
  return perlCommand(WRITE_SUFFIX, code);
}

/** The Perl code of a command that is exactly one write (as perlWrite builds it); undefined otherwise. */
export function writeCode(command: string): string | undefined {
  return perlCodeOf(WRITE_SUFFIX, command);
}
