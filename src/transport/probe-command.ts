/**
 * The shell form of a probe (modules/probe.ts): `perl -e '<code>' orch-probe`. An ordinary command anywhere
 * (exec mode, the local transport, inside a prefetch script); the command runner is sent the code alone, in a
 * probe frame (runner.pl), and evaluates it in its own process. Writes (write-command.ts) have the same form
 * with another last word.
 */
export const PROBE_SUFFIX = 'orch-probe';

/** `perl -e '<code>' <suffix>`: code the runner may evaluate itself, an ordinary command elsewhere. */
export function perlCommand(suffix: string, code: string): string {
  if (code.includes("'")) throw new Error(`internal: ${suffix} code must not contain a single quote`);
  return `perl -e '${code}' ${suffix}`;
}

const forms = new Map<string, RegExp>();

/** The Perl code of a command that is exactly `perlCommand(suffix, code)`; undefined otherwise. */
export function perlCodeOf(suffix: string, command: string): string | undefined {
  let form = forms.get(suffix);
  if (!form) forms.set(suffix, (form = new RegExp(`^perl -e '([^']*)' ${suffix}$`)));
  return form.exec(command)?.[1];
}

/**
 * A line in a probe's code that says it starts programs (facts: env, ip; stat: file, lsattr): like a command,
 * it then needs a runner whose session is current (runner.pl: "Stale sessions"), not only Perl in it.
 */
export const STARTS_PROCESSES = '# starts processes\n';

/** The shell command for a probe. */
export function perlProbe(code: string): string {
  return perlCommand(PROBE_SUFFIX, code);
}

/** The Perl code of a command that is exactly one probe (as perlProbe builds it); undefined otherwise. */
export function probeCode(command: string): string | undefined {
  return perlCodeOf(PROBE_SUFFIX, command);
}
