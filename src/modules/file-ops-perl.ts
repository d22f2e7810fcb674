/**
 * Perl subs doing what the file module's commands do (file-ops.ts), with the tools' messages (GNU coreutils 9.1,
 * quoting from gnu-quote.ts) and their order of checks, so that a failure reads the same either way. Each is
 * `$op{NAME} = sub { ... }`, called with perlString values; an error dies with the whole message. Unit tests run
 * each against the tool it stands for (test/unit/file-ops.test.ts). Rules: no single quote, no exit.
 */

/** The subs a sub calls (included before it). */
export const NEEDS: Partial<Record<keyof typeof FILE_OP_PERL, (keyof typeof FILE_OP_PERL)[]>> = {
  own: ['id'],
  chownR: ['id'],
  symlink: ['dirname'],
  mkdirParent: ['dirname', 'mkdir'],
};

export interface PerlOp {
  sub: keyof typeof FILE_OP_PERL;
  args: string[];
  numbers?: number[];
}

/** A user or group as chown and chgrp resolve it (a name, else digits); the message quotes the whole spec. */
const ID = [
  'my $id = sub { my ($tool, $n, $kind, $spec) = @_; return -1 if $n eq "";',
  '  my $v = $kind eq "user" ? (getpwnam($n))[2] : (getgrnam($n))[2]; return $v if defined $v;',
  '  return $n + 0 if $n =~ /\\A\\d+\\z/; die "$tool: invalid $kind: " . $ql->($spec) . "\\n"; };',
].join('\n');

const SKIP_DOTS = 'grep { $_ ne "." && $_ ne ".." } readdir $dh';

export const FILE_OP_PERL = {
  // rm -rf: depth first; an entry that stays keeps its directories (silently); the errors all told, then rc 1
  rm: [
    '$op{rm} = sub { my ($top) = @_; my $err = ""; my $rm; $rm = sub { my ($p) = @_; my @s = lstat $p;',
    '    if (!@s) { return 1 if $!{ENOENT}; $err .= "rm: cannot remove " . $qa->($p) . ": $!\\n"; return 0; }',
    '    if (-d _) { my $dh; if (!opendir($dh, $p)) { my $oe = $! + 0; return 1 if rmdir $p;',
    '        $! = $oe if $!{ENOTEMPTY} || $!{EISDIR} || $!{EPERM} || $!{EACCES};',
    '        $err .= "rm: cannot remove " . $qa->($p) . ": $!\\n"; return 0; }',
    `      my @n = ${SKIP_DOTS}; closedir $dh; my $ok = 1;`,
    '      for my $n (@n) { $ok = 0 unless $rm->("$p/$n"); } return 0 unless $ok; return 1 if rmdir $p; }',
    '    elsif (unlink $p) { return 1; }',
    '    $err .= "rm: cannot remove " . $qa->($p) . ": $!\\n"; return 0; };',
    '  $rm->($top); undef $rm; die $err if $err ne ""; };',
  ].join('\n'),
  // mkdir -p: each missing ancestor (u+wx whatever the umask), then the path; an ancestor that cannot be
  // entered is reported with why (the errno of entering it, or of creating it when it is not there)
  mkdir: [
    '$op{mkdir} = sub { my ($p) = @_; my $um = umask; my @ends; push @ends, pos($p) while $p =~ m{[^/]+}g;',
    '  for my $i (0 .. $#ends - 1) { my $c = substr($p, 0, $ends[$i]);',
    '    if (mkdir($c, 0777)) { chmod(0777 & ~($um & ~0300), $c) if $um & 0300; next; }',
    '    my $me = $! + 0; next if stat("$c/.");',
    '    $! = $!{ENOENT} ? $me : $! + 0; die "mkdir: cannot create directory " . $ql->($c) . ": $!\\n"; }',
    '  return if mkdir($p, 0777); my $me = $! + 0; return if -d $p;',
    '  $! = $me; die "mkdir: cannot create directory " . $ql->($p) . ": $!\\n"; };',
  ].join('\n'),
  // touch (both times now): open to create, then set the times; the open's error first when both fail
  touch: [
    'require Fcntl;',
    '$op{touch} = sub { my ($p) = @_; my $oe = 0;',
    '  if (sysopen(my $fh, $p, Fcntl::O_WRONLY() | Fcntl::O_CREAT() | Fcntl::O_NONBLOCK() | Fcntl::O_NOCTTY(), 0666)) {',
    '    close $fh; } else { $oe = $! + 0; }',
    '  return if utime(undef, undef, $p);',
    '  if ($oe) { $! = $oe; die "touch: cannot touch " . $qa->($p) . ": $!\\n"; }',
    '  die "touch: setting times of " . $qa->($p) . ": $!\\n"; };',
  ].join('\n'),
  /** GNU dirname */
  dirname: [
    'my $dirname = sub { my ($d) = @_; return "/" if $d =~ m{\\A/+\\z}; $d =~ s{/+\\z}{}; return "." unless $d =~ m{/};',
    '  $d =~ s{[^/]*\\z}{}; $d =~ s{/+\\z}{}; return $d eq "" ? "/" : $d; };',
  ].join('\n'),
  // mkdir -p -- "$(dirname -- PATH)" (the command substitution drops the trailing newlines)
  mkdirParent: '$op{mkdirParent} = sub { (my $d = $dirname->($_[0])) =~ s/\\n+\\z//; $op{mkdir}->($d); };',
  // dirname, mktemp -d, ln -s, mv -Tf, rmdir (the private directory is removed when a later step fails)
  symlink: [
    '$op{symlink} = sub { my ($src, $p) = @_; my $dir = $dirname->($p);',
    '  my $tpl = "$dir/.orch-tmp.XXXXXX"; my @abc = ("A" .. "Z", "a" .. "z", 0 .. 9); my $d;',
    '  for (1 .. 100) { $d = substr($tpl, 0, -6) . join("", map { $abc[rand @abc] } 1 .. 6);',
    '    last if mkdir($d, 0700); undef $d; last unless $!{EEXIST}; }',
    '  die "mktemp: failed to create directory via template " . $ql->($tpl) . ": $!\\n" unless defined $d;',
    '  my $l = "$d/l"; my $e;',
    '  if (!symlink($src, $l)) { $e = "ln: failed to create symbolic link " . $qa->($l) . ": $!\\n"; }',
    '  elsif (!rename($l, $p)) { $e = $!{EISDIR} ? "mv: cannot overwrite directory " . $qa->($p) . " with non-directory\\n"',
    '      : "mv: cannot move " . $qa->($l) . " to " . $qa->($p) . ": $!\\n"; unlink $l; }',
    '  if (defined $e) { rmdir $d; die $e; }',
    '  rmdir($d) or die "rmdir: failed to remove " . $qa->($d) . ": $!\\n"; };',
  ].join('\n'),
  // ln -f SRC PATH where PATH is not there (a link to the source itself, never to what a symlink points to)
  hard: [
    '$op{hard} = sub { my ($src, $p) = @_; lstat $src or die "ln: failed to access " . $qa->($src) . ": $!\\n";',
    '  die "ln: " . $qf->($src) . ": hard link not allowed for directory\\n" if -d _;',
    '  link($src, $p) or die "ln: failed to create hard link " . $qa->($p) . " => " . $qa->($src) . ": $!\\n"; };',
  ].join('\n'),
  // chmod OCTAL (a number), through links; fewer than 5 digits keep a directory's setuid and setgid bits
  chmod: [
    '$op{chmod} = sub { my ($p, $m, $keep) = @_; my @s = stat $p;',
    '  if (!@s) { die "chmod: cannot operate on dangling symlink " . $qa->($p) . "\\n" if $!{ENOENT} && -l $p;',
    '    die "chmod: cannot access " . $qa->($p) . ": $!\\n"; }',
    '  $m |= $s[2] & 06000 if $keep && -d _;',
    '  chmod($m, $p) or die "chmod: changing permissions of " . $qa->($p) . ": $!\\n"; };',
  ].join('\n'),
  // chown USER PATH / chgrp GROUP PATH, with -h (noDereference) the link itself
  id: ID,
  own: [
    '$op{own} = sub { my ($u, $g, $p, $h) = @_; my $tool = $u ne "" ? "chown" : "chgrp";',
    '  my ($uid, $gid) = ($id->($tool, $u, "user", $u), $id->($tool, $g, "group", $g));',
    '  my @s = $h ? lstat $p : stat $p; if (!@s) { my $dl = !$h && $!{ENOENT} && -l $p;',
    '    die "$tool: " . ($dl ? "cannot dereference " : "cannot access ") . $qa->($p) . ": $!\\n"; }',
    '  return if $h ? do { require POSIX; POSIX::lchown($uid, $gid, $p) } : chown($uid, $gid, $p);',
    '  die "$tool: " . ($u ne "" ? "changing ownership of " : "changing group of ") . $qa->($p) . ": $!\\n"; };',
  ].join('\n'),
  // chown -R USER[:GROUP] PATH: never through a link (the path itself either), each directory after its entries
  chownR: [
    '$op{chownR} = sub { my ($u, $g, $p) = @_; my $spec = $g eq "" ? $u : "$u:$g"; my $err = ""; require POSIX;',
    '  my ($uid, $gid) = ($id->("chown", $u, "user", $spec), $id->("chown", $g, "group", $spec)); my $w;',
    '  $w = sub { my ($f) = @_; if (!lstat $f) { $err .= "chown: cannot access " . $qa->($f) . ": $!\\n"; return; }',
    '    if (-d _) { my $dh; if (!opendir($dh, $f)) { $err .= "chown: cannot read directory " . $qa->($f) . ": $!\\n"; return; }',
    `      my @n = ${SKIP_DOTS}; closedir $dh; $w->("$f/$_") for @n; }`,
    '    POSIX::lchown($uid, $gid, $f) or $err .= "chown: changing ownership of " . $qa->($f) . ": $!\\n"; };',
    '  $w->($p); undef $w; die $err if $err ne ""; };',
  ].join('\n'),
} as const;
