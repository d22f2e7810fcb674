import { readFileSync } from 'node:fs';
import { quote } from './quote.js';

/** runner.pl as the controller sends it, and the files its session check watches (runner.pl: "Stale sessions"). */

/**
 * What a new session is computed from (a trailing / stands for the directory and every file in it):
 * the user database (uid, groups, home, shell), PAM's configuration with its limits and environment
 * files, sudo's policy (env_reset, secure_path), and the rc files the login shell reads for sshd.
 */
export const SESSION_FILES = [
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/pam.d/',
  '/etc/security/',
  '/etc/security/limits.d/',
  '/etc/environment',
  '/etc/default/locale',
  '/etc/login.defs',
  '/etc/sudoers',
  '/etc/sudoers.d/',
  '/etc/sudo.conf',
  '/etc/bash.bashrc',
  '/etc/zsh/zshenv',
];
/** The same, in the runner user's home. */
export const HOME_FILES = ['.bashrc', '.zshenv', '.ssh/environment', '.pam_environment'];
/**
 * Those of SESSION_FILES that only a new process reads: resource limits and environment files (not shell rc
 * files: they may set the umask). A change of them makes commands (and probes that start programs) go to a
 * new runner; probes and writes, which run inside the runner's Perl, stay where they are (runner.pl: "Stale
 * sessions").
 */
export const PROCESS_FILES = [
  '/etc/security/limits.conf',
  '/etc/security/limits.d/',
  '/etc/security/pam_env.conf',
  '/etc/environment',
  '/etc/default/locale',
];

/**
 * A Perl expression: the machine perl runs on, from its own ELF header (62 x86-64, 183 arm64, 243 riscv64),
 * 0 when unknown. For the syscalls that have no Perl function (inotify here, fsync in a write). Double quotes
 * only: it goes inside probe and write code too (probe-command.ts).
 */
export const ELF_MACHINE_PERL =
  'do { my ($e, $h) = (undef, ""); read($e, $h, 20) if open($e, "<", "/proc/self/exe"); ' +
  'length($h) == 20 && substr($h, 0, 6) eq "\\x7fELF\\x02\\x01" ? unpack("v", substr($h, 18, 2)) : 0 }';

/**
 * runner.pl as sent: comment lines dropped (bytes at every start), its file lists filled in (or a test's own);
 * `inotify: false` (tests) makes every session check stat every file.
 */
export function runnerSource(
  files: { session?: readonly string[]; process?: readonly string[]; inotify?: boolean } = {},
): string {
  const text = readFileSync(new URL('./runner.pl', import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l) && l.trim() !== '')
    .join('\n')
    .replace('qw(SESSION_FILES)', `qw(${(files.session ?? SESSION_FILES).join(' ')})`)
    .replace('qw(HOME_FILES)', `qw(${HOME_FILES.join(' ')})`)
    .replace('qw(PROCESS_FILES)', `qw(${(files.process ?? PROCESS_FILES).join(' ')})`)
    .replace('INOTIFY_ON', files.inotify === false ? '0' : '1')
    .replace('ELF_MACHINE', () => ELF_MACHINE_PERL);
}

export const DRIVER_COMMAND = `exec perl -e ${quote(runnerSource())}`;
