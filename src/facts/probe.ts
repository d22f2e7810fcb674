import { perlString } from '../modules/probe.js';
import { perlProbe, STARTS_PROCESSES } from '../transport/probe-command.js';
import { SECTION_MARKER, type FactSection } from './sections.js';

/**
 * The fact script as one probe: the runner evaluates every section's Perl in its own process, where the shell
 * script forks ~40 processes (uname, id, date, sed, cat...) for each play on each host. What only a program
 * can tell (ip, statfs, env in its order) is still one fork of that program, never of a shell. The output is
 * byte for byte the shell script's (test/unit/facts-probe.test.ts), so the same parsers read it.
 */

// Helpers for the sections' Perl: a file's bytes, $(cat f), $(head -n1 f), its lines, `command -v`, and the
// output of a program run with no shell, stdin from /dev/null and stderr dropped (as the script's 2>/dev/null).
const HELPERS = String.raw`require POSIX;
my $fread = sub { open(my $f, "<", $_[0]) or return undef; local $/; my $c = <$f>; close $f; return $c; };
my $fcat = sub { my $c = $fread->($_[0]) // ""; $c =~ s/\n+\z//; return $c; };
my $fhead = sub { my $c = $fread->($_[0]) // ""; $c =~ s/\n.*//s; return $c; };
my $flines = sub { my $c = $fread->($_[0]); return defined $c ? split(/^/m, $c) : (); };
my $fwhich = sub { for my $d (split /:/, $ENV{PATH} // "") { my $p = ($d eq "" ? "." : $d) . "/$_[0]"; return $p if -f $p && -x _; } return undef; };
my $frun = sub { my @cmd = @_; my $pid = open(my $f, "-|"); return "" unless defined $pid;
  if (!$pid) { open(STDIN, "<", "/dev/null"); open(STDERR, ">", "/dev/null"); exec { $cmd[0] } @cmd; POSIX::_exit(127); }
  local $/; my $o = <$f> // ""; close $f; return $o; };`;

export function factsProbe(sections: readonly FactSection[]): string {
  return perlProbe(
    [
      STARTS_PROCESSES + HELPERS,
      ...sections.map((s) => {
        const body = s.perl ?? `print $frun->("/bin/sh", "-c", ${perlString(s.script)});`;
        return `print ${perlString(`\n${SECTION_MARKER}${s.name}\n`)}; eval {\n${body}\n1 };`;
      }),
    ].join('\n'),
  );
}
