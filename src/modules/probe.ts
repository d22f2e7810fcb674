/**
 * Probes: read-only queries written in Perl instead of shell. A module runs one with `ctx.probe(code)`. On the
 * wire a probe is still an ordinary shell command (`perl -e '<code>' orch-probe`, transport/probe-command.ts;
 * perl-base is on every Debian system), so it runs anywhere a command runs and the executor batches it as any
 * query; but the controller sends that exact form to the command runner on the host as a probe frame
 * (transport/runner.pl), which evaluates the code in its own process: no fork, no exec of sh, stat,
 * sha1sum, base64... A converged run is almost all queries, so this is where the target's CPU goes.
 *
 * Rules for probe code, since it runs inside the runner: only print (to the selected handle), never
 * exit, chdir, read STDIN or change %ENV; `use strict` clean; no single quote anywhere (values go in
 * with perlString, hex-encoded).
 */

import { perlProbe, STARTS_PROCESSES } from '../transport/probe-command.js';

export { PROBE_SUFFIX } from '../transport/probe-command.js';

/** A Perl expression for the string `s` (any bytes, no quoting problems). */
export function perlString(s: string): string {
  return `pack("H*","${Buffer.from(s, 'utf8').toString('hex')}")`;
}

const MAX_CONTENT = 2 * 1024 * 1024;

/**
 * Perl that prints what statScript's parser reads (see remote-file.ts parseStat) for the path in
 * Perl variable `$p`: U|umask|user|group (who creates files), S|type|mode|owner|group|size|uid|gid, L|target, H|sha1,
 * C|base64 (X|hex without MIME::Base64).
 * SHA-1 by Digest::SHA (Debian's perl package); on a host with only perl-base, by sha1sum.
 */
/**
 * follow: false = the path itself (lstat); true = through links; 'or-link' = through links, the link itself when
 * dangling.
 */
export type Follow = boolean | 'or-link';

/**
 * What stat reports beyond the basics: times, ids, links, access, and (forked here, same round trip) mime and
 * attributes.
 */
export interface StatExtras {
  details?: boolean;
  mime?: boolean;
  attributes?: boolean;
}

function statExtrasPerl(x: StatExtras): string[] {
  const lines: string[] = [];
  if (x.details) {
    lines.push(
      '  my @h = eval { require Time::HiRes; $l ? Time::HiRes::lstat($p) : Time::HiRes::stat($p) }; @h = @s unless @h;',
      '  my ($r, $w, $x) = $l ? (1, 1, 1) : ((-r $p) ? 1 : 0, (-w _) ? 1 : 0, (-x _) ? 1 : 0);',
      '  printf "T|%.9f|%.9f|%.9f|%d|%d|%d|%d|%d|%d|%o|%d|%d|%d\\n", $h[8], $h[9], $h[10], $s[0], $s[1], $s[3], $s[12], $s[11], $s[6], $s[2], $r, $w, $x;',
    );
  }
  if (x.mime || x.attributes) lines.push(STARTS_PROCESSES.trimEnd());
  if (x.mime)
    lines.push(
      '  if (open(my $m, "-|", "file", "-b", "--mime-type", "--mime-encoding", "--", $p)) { my $o = <$m> // ""; close $m; print "M|$o"; }',
    );
  if (x.attributes)
    lines.push(
      // lsattr's errors (a file system without attributes) go nowhere: stderr is /dev/null while it starts (no sh)
      '  if (!$l && open(my $se, ">&", \\*STDERR)) { open(STDERR, ">", "/dev/null"); my $ok = open(my $av, "-|", "lsattr", "-vd", "--", $p);',
      '    open(STDERR, ">&", $se); if ($ok) { my $o = <$av> // ""; close $av; print "V|$o" if $o; } }',
    );
  return lines;
}

export function statPerl(
  withContent: boolean,
  follow: Follow = false,
  extras: StatExtras = {},
  readLinkTarget = true,
): string {
  return [
    'my $eg = (split / /, $))[0]; printf "U|%04o|%s|%s\\n", umask, scalar(getpwuid($>)) // $>, scalar(getgrgid($eg)) // $eg;',
    // follow: the link's target is described (Ansible's `follow`); a dangling link is then absent
    follow === 'or-link'
      ? 'my @s = stat($p); my $l = 0; if (!@s) { @s = lstat($p); $l = @s && -l _; }'
      : follow
        ? 'my @s = stat($p); my $l = 0;'
        : 'my @s = lstat($p); my $l = @s && -l _;',
    'if (!@s) { print "A\\n"; } else {',
    '  my $t = $l ? "symbolic link" : -d _ ? "directory" : -f _ ? "regular file" : "other";',
    '  printf "S|%s|%o|%s|%s|%d|%d|%d\\n", $t, $s[2] & 07777, scalar(getpwuid($s[4])) // $s[4], scalar(getgrgid($s[5])) // $s[5], $s[7], $s[4], $s[5];',
    '  print "L|", readlink($p) // "", "\\n" if $l;',
    ...statExtrasPerl(extras),
    // readLinkTarget=false: a link's target is never read (a copy that does not follow it must not see it)
    readLinkTarget ? '  if (-f $p && -r $p) {' : '  if (!$l && -f $p && -r $p) {',
    '    my $size = -s _; my $h;',
    '    if (eval { require Digest::SHA; 1 }) { $h = eval { Digest::SHA->new(1)->addfile($p)->hexdigest }; }',
    '    else { if (open(my $c, "-|", "sha1sum", "--", $p)) { $h = substr(<$c> // "", 0, 40); close $c; } }',
    '    print "H|", $h // "", "\\n";',
    withContent
      ? `    if ($size <= ${MAX_CONTENT} && open(my $f, "<:raw", $p)) { local $/; my $d = <$f> // ""; close $f;` +
        ' if (eval { require MIME::Base64; 1 }) { print "C|", MIME::Base64::encode_base64($d, ""), "\\n"; } else { print "X|", unpack("H*", $d), "\\n"; } }'
      : '',
    '  }',
    '}',
  ].join('\n');
}

/** Probe code printing the state of `path` in one record (parseStat): for ctx.probe. */
export function statCode(
  path: string,
  withContent: boolean,
  follow: Follow = false,
  extras: StatExtras = {},
  readLinkTarget = true,
): string {
  return `my $p = ${perlString(path)};\n${statPerl(withContent, follow, extras, readLinkTarget)}`;
}

/** The same as shell text, for scripts that run it among other commands (remote-file.ts statScript). */
export function statProbe(path: string, withContent: boolean, follow: Follow = false): string {
  return perlProbe(statCode(path, withContent, follow));
}
