/**
 * The shell form of a probe (modules/probe.ts): `perl -e '<code>' orch-probe`. An ordinary command anywhere
 * (exec mode, the local transport, inside a prefetch script); the command runner is sent the code alone, in a
 * probe frame (runner.pl), and evaluates it in its own process.
 */
export const PROBE_SUFFIX = 'orch-probe';

/** The shell command for a probe. */
export function perlProbe(code: string): string {
  if (code.includes("'")) throw new Error('internal: probe code must not contain a single quote');
  return `perl -e '${code}' ${PROBE_SUFFIX}`;
}

const PROBE_FORM = new RegExp(`^perl -e '([^']*)' ${PROBE_SUFFIX}$`);

/** The Perl code of a command that is exactly one probe (as perlProbe builds it); undefined otherwise. */
export function probeCode(command: string): string | undefined {
  return PROBE_FORM.exec(command)?.[1];
}
