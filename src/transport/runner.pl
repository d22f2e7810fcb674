# orch's command runner: one per host and become user, on one SSH exec channel, for the whole run.
#
# Sent by src/transport/driver.ts as `exec perl -e '<this file>'` (comment lines removed, SESSION_FILES and
# HOME_FILES filled in), under sudo/su when the task becomes another user. perl-base is on every Debian
# system. A task then costs one message round trip on an open channel instead of a new SSH session + sudo +
# shell per command (the idea behind Mitogen).
#
# Protocol (all lengths in bytes, numbers in decimal, one header line each way, then raw bytes):
#
#   before:  the become handshake, when there is one (src/transport/become.ts): sudo/su print a prompt with
#            a random marker on stderr, the controller answers with the password on stdin; nothing of it is
#            framed, and the runner has not started yet.
#   ready:   runner -> "ORCH-DRIVER-READY\n" once it has noted its session (see Stale sessions below).
#   command: controller -> "R <cmdlen> <stdinlen> <timeout ms>[ F]\n" <cmd> <stdin>
#            runs /bin/sh -c <cmd> in a new process group, <stdin> as its standard input.
#   probe:   controller -> "P <codelen> 0 <timeout ms>[ FLAGS]\n" <code> (FLAGS: F, see below; N: the probe
#            starts programs, so it needs a current session as a command does)
#            evaluates Perl <code> inside the runner (no fork, no exec): what it prints is the stdout; rc 1
#            and the Perl error as stderr when it dies. Probe code only prints (src/modules/probe.ts).
#   write:   controller -> "W <codelen> <stdinlen> <timeout ms>[ F]\n" <code> <bytes>
#            as a probe, with <bytes> (a file's new content) in $main::ORCH_IN: a file written with no fork
#            (src/modules/file-write.ts). Outside the runner the same code runs as `perl -e` reading stdin.
#   cached:  controller -> "p <bodylen> 0 <timeout ms>[ F]\n" or "w <bodylen> <stdinlen> <timeout ms>[ F]\n", then
#            <id>[ <hex>...]\n[<code>] [<bytes>]: a probe or write whose code is compiled once per runner (see
#            Cached code below).
#   result:  runner -> "X <rc> <stdoutlen> <stderrlen>[ S| P]\n" <stdout> <stderr>, one per request, in order.
#   stale:   runner -> "S\n" instead of a result: nothing ran (see below). A result header ends in " S" when
#            this request made the session stale, in " P" when new processes need a new session (see below).
#   Other writes (with a validate command, a backup...) are shell scripts that read the file from stdin.
#   The controller may send several requests without waiting (pipelining); they run one after the other.
#
# Timeouts (0: none) are kept here: at the limit the command's process group and every process still
# holding its output pipes (a child that left the group: `setsid cmd &`) get SIGTERM, 5 s later SIGKILL,
# and 1 s after that the runner stops waiting for the pipes; the answer is rc 124. The runner thus always
# answers and stays usable for the next task.
#
# Stale sessions: a runner keeps the groups, resource limits and environment that sshd/sudo/su/PAM gave it
# when it started, while Ansible starts every task in a new sudo session. So the runner notes, when it
# starts, the files those are computed from (SESSION_FILES: passwd/group, PAM and its limits and env files,
# sudoers, the shell's rc files) and, before each request, checks that none changed (~54 stats, ~0.5 ms on
# a loaded lab host; a file changed in the last second is also compared by content, as stat has whole seconds
# only). On Linux (x86-64, arm64, riscv64) inotify tells first: the files under /etc, their directories (for a
# file replaced, made or removed; for one not there yet the nearest directory on its way) and the listed
# directories' files are watched, and a check with no event pending for them reads one empty queue and stats
# only the home files (a home directory on NFS does not notify); any event for them, or one lost, runs the
# full check. A symlink among them, an unknown architecture or a kernel out of inotify instances or watches
# (many lab hosts on one kernel share root's) leave the stat check alone. A request
# whose first byte had arrived when the last check began is covered by that check: the controller sent it
# after every answer it depends on, so requests sent together (a batch of probes, a write and the queries
# behind it) cost one check, not one each. A change of /etc/passwd or /etc/group alone counts only when
# the runner user's own entry or group list differs (creating another user does not). When one changed,
# by any task, module or process, it runs nothing more and answers "S\n" to this and every later request;
# the controller starts a new runner (a new sudo/su session, as Ansible's next task would get) and sends the
# requests again there. A header with the flag F runs the request even so when it is the runner's first (a
# retry's last resort). The check also runs after each request: a result ending in " S" says that request
# changed them, so the controller sends the next one to a new runner at once (no "S" round trip after a
# changing task). Probes only read: no check after them.
# Files only a new process reads (PROCESS_FILES: limits and environment files) do not make probes and writes
# stale: those run inside this Perl, which reads no environment variable (the locale GNU-style messages are
# quoted in stays the one of the runner's start), and limits matter to them only at extremes (a lowered
# fsize or nofile). Shell rc files are not among them: they can set the umask, which writes use. After such
# a change the runner still runs probes and writes, marks its results " P", and answers "S" to the first
# command or probe flagged N (programs: they need the new session) and to everything after it; the
# controller, told by " P", sends those to a new runner at once when nothing is in flight (no "S" round trip).
# Directories count by being there and by their files; those the list names are not compared by their times
# (an overlay file system copying one up changes them), the others are.
#
# Cached code (src/transport/code-cache.ts): the values of a probe's or write's code (hex, as perlString
# writes them) are taken out of it by the controller and sent as arguments, hex still, after the code's id.
# The code comes with the first frame of its id that a runner is sent (the controller keeps, per runner, which
# ids it sent); the runner compiles it then, whether or not it runs it (a stale session), into a sub whose
# values are @ORCH_A, and keeps it (a compile error too: each later call dies with it). A frame with no code
# calls the kept sub; an id this runner was never sent answers rc 1 and says so.
#
# Comment lines (a # first on the line) are removed before sending: keep comments on lines of their own.
use strict;
$SIG{PIPE} = 'IGNORE'; binmode STDIN; binmode STDOUT; $| = 1;
# Input is read in blocks into $ib; $got counts every byte received so far, $used those taken out of $ib.
my ($ib, $got, $used, $eof) = ('', 0, 0, 0);
sub more { my $r = sysread(STDIN, $ib, 65536, length $ib); if ($r) { $got += $r; return 1; } $eof = 1; return 0; }
sub take { my ($n) = @_; my $b = substr($ib, 0, $n, ''); $used += $n; return $b; }
sub rd { my ($n) = @_; while (length($ib) < $n) { return undef if $eof || !more(); } return take($n); }
sub line { my $i; while (($i = index($ib, "\n")) < 0) { return undef if $eof || !more(); } my $l = take($i + 1); chop $l; return $l; }
# Modules are loaded only where needed (POSIX costs ~6 ms to load, IO::Select ~2 ms): select() is perl's own.
my $rin = ''; vec($rin, fileno(STDIN), 1) = 1;
sub arrived { while (!$eof) { my $r = $rin; last unless select($r, undef, undef, 0) > 0 && more(); } return $got; }
sub wr { my ($d) = @_; while (length $d) { my $w = syswrite(STDOUT, $d); exit 0 unless defined $w; substr($d, 0, $w) = ''; } }
# a monotonic clock, for timeouts only
my $tck; sub now { require POSIX; $tck //= POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100; return (POSIX::times())[0] / $tck; }
sub holders { my %want = map { ("pipe:[$_]" => 1) } @_; my @p; opendir(my $d, '/proc') or return ();
  for my $p (readdir $d) { next unless $p =~ /\A\d+\z/ && $p != $$; opendir(my $f, "/proc/$p/fd") or next;
    for my $fd (readdir $f) { my $l = readlink("/proc/$p/fd/$fd"); if (defined $l && $want{$l}) { push @p, $p; last; } } }
  return @p; }
our $ORCH_IN; my %code;
sub probe { my ($code, $in, @a) = @_; local $ORCH_IN = $in; my $out = ''; open(my $o, '>', \$out) or die; my $old = select($o);
  my $ok = ref $code ? eval { $code->(@a); 1 } : eval "$code; 1"; my $err = $ok ? '' : "$@"; select($old); close $o;
  wr("X " . ($ok ? 0 : 1) . " " . length($out) . " " . length($err) . (defined $in ? gone() : '') . "\n" . $out . $err); }
my @EF = qw(SESSION_FILES); my @HF = map { "$ENV{HOME}/$_" } qw(HOME_FILES); my @SF = (@EF, @HF); my @PF = qw(PROCESS_FILES);
my %listed = map { my $d = $_; $d =~ s{/\z}{}; ($d => 1, "$d/" => 1) } grep { m{/\z} } @SF;
# a file that only a new process reads (limits and environment files: PROCESS_FILES)
sub procf { my ($f) = @_; return grep { $f eq $_ || (m{/\z} && index("$f/", $_) == 0) } @PF; }
sub slurp { my ($f) = @_; open(my $fh, '<', $f) or return "\0"; local $/; my $c = <$fh>; return defined $c ? $c : "\0"; }
# a file's state, and whether it changed in the last second (compared by content too: stat has whole seconds)
sub sig { my ($f, $now) = @_; my @st = stat $f;
  # a listed directory counts by being there (its files are in the list): see Stale sessions
  return (!@st ? '-' : (-d _ && $listed{$f}) ? 'd' : "@st[0,1,7,9,10]", @st && -f _ && $st[10] >= $now - 1); }
sub fp { my $now = time; my %s; my @rec; my @f;
  for my $p (@SF) { push @f, $p; if ($p =~ m{/\z} && opendir(my $d, $p)) { push @f, map { "$p$_" } sort grep { !/\A\.\.?\z/ } readdir $d; } }
  for my $f (@f) { my ($v, $recent) = sig($f, $now); $s{$f} = $v; push @rec, $f if $recent; }
  return (\%s, @rec); }
# inotify (see Stale sessions): the session files under /etc, their directories and the listed directories' files
# are watched; a check with no event pending for them reads one empty queue and stats only the home files.
# Syscall numbers per architecture (ELF_MACHINE: perl's own, from its ELF header; arm64 and riscv64 share theirs).
my ($fp0, %fpc); my ($ino, $ifd, $iadd, %want);
sub inotify { return unless INOTIFY_ON; my $m = ELF_MACHINE;
  my ($init, $add) = $m == 62 ? (294, 254) : ($m == 183 || $m == 243) ? (26, 27) : return;
  # IN_NONBLOCK | IN_CLOEXEC (commands must not inherit it)
  my $fd = syscall($init, 0x80800); return if $fd < 0;
  open($ino, '<&=', $fd) or return; ($ifd, $iadd) = ($fd, $add); arm(); }
sub off { close $ino if $ino; undef $ino; %want = (); }
# watch a path: every event of it counts, or, with a name, only those of that entry; 0 when it is not there
sub watch { my ($p, $name) = @_; return 1 unless $ino;
  # modify, attrib, close-write, moved from/to, create, delete, delete-self, move-self
  my $w = syscall($iadd, $ifd, $p, 0xFCE); if ($w < 0) { my $e = $! + 0;
    # ENOENT, ENOTDIR: not there. EACCES: a file this user may not read (its directory's watch, next, sees it),
    # a directory it may not enter either (the stat check cannot look inside). Else, an unreadable directory it
    # may enter, a security module's refusal or anything else: back to stat checks
    return 0 if $e == 2 || $e == 20; return 1 if $e == 13 && (!-d $p || !-x _); off(); return 1; }
  if (!defined $name) { $want{$w} = 1; } elsif (!exists $want{$w} || ref $want{$w}) { $want{$w}{$name} = 1; } return 1; }
# a symlink among them (its target changes elsewhere): stat checks only
sub arm { for my $p (@EF) { (my $t = $p) =~ s{/\z}{}; return off() if -l $t; watch($t) if -e _;
    if ($listed{$t} && opendir(my $d, $t)) { for (grep { !/\A\.\.?\z/ } readdir $d) { return off() if -l "$t/$_"; watch("$t/$_"); } }
    # its directory (a file replaced, created, removed); for one not there yet the nearest directory on its way
    my ($d, $n) = ($t);
    do { ($d, $n) = $d =~ m{\A(.*)/([^/]+)\z} ? ($1 eq '' ? '/' : $1, $2) : ('/', $d); } until watch($d, $n) || $d eq '/';
    return unless $ino; } }
# nothing happened to the session files since the last check (inotify), and the home files are as they were
sub quiet { return 0 unless $ino; my $dirty = 0;
  while (my $n = sysread($ino, my $b, 65536)) {
    for (my $o = 0; $o + 16 <= $n; ) { my ($w, $m, $c, $l) = unpack('l L L L', substr($b, $o, 16));
      my $name = unpack('Z*', substr($b, $o + 16, $l)); $o += 16 + $l; my $x = $want{$w};
      # an unknown watch: a lost event (overflow) or a removed watch
      $dirty = 1 if !defined $x || !ref $x || $name eq '' || $x->{$name}; } }
  return 0 if $dirty; my $now = time;
  # as the full check: by stat, and by content while changed in the last second
  for my $f (@HF) { my ($v, $recent) = sig($f, $now);
    return 0 if $v ne ($fp0->{$f} // '') || (exists $fpc{$f} && slurp($f) ne $fpc{$f}); delete $fpc{$f} unless $recent; }
  return 1; }
sub who { my @pw = getpwuid($<); return '-' unless @pw; my %g = ($pw[3] => 1); setgrent();
  while (my @gr = getgrent()) { $g{$gr[2]} = 1 if grep { $_ eq $pw[0] } split / /, $gr[3]; } endgrent();
  return join(' ', @pw[0,2,3,7,8], sort { $a <=> $b } keys %g); }
inotify(); my @rec0; ($fp0, @rec0) = fp(); %fpc = map { ($_ => slurp($_)) } @rec0; my $who0 = who(); my $stale = 0; my $pstale = 0; my $ran = 0;
my $seen = 0;
sub fresh { return 0 if $stale; $seen = arrived(); return 1 if quiet(); arm() if $ino; my ($s, @rec) = fp(); my %now = map { ($_ => 1) } @rec; my %k = (%$s, %$fp0);
  my @ch = grep { ($s->{$_} // '') ne ($fp0->{$_} // '') || (exists $fpc{$_} && slurp($_) ne $fpc{$_}) } keys %k;
  if (!@ch) { delete @fpc{grep { !$now{$_} } keys %fpc}; return 1; }
  if (grep({ $_ ne '/etc/passwd' && $_ ne '/etc/group' && !procf($_) } @ch) || who() ne $who0) { $stale = 1; return 0; }
  $pstale = 1 if grep { procf($_) } @ch;
  $fp0 = $s; %fpc = map { ($_ => slurp($_)) } @rec; return 1; }
sub gone { return fresh() ? ($pstale ? ' P' : '') : ' S'; }
sub cached { my ($body) = @_; my $nl = index($body, "\n"); my ($id, @a) = split / /, substr($body, 0, $nl), -1;
  my $src = substr($body, $nl + 1);
  if (length $src) { $code{$id} = eval "sub { my \@ORCH_A = \@_;\n$src\n}" || do { my $e = $@; sub { die $e } }; }
  return ($code{$id}, $id, map { pack('H*', $_) } @a); }
wr("ORCH-DRIVER-READY\n");
while (1) {
  my $start = $used; my $h = line(); last unless defined $h;
  my ($kind, $cl, $il, $tms, $flags) = split / /, $h; $flags //= '';
  my ($force, $spawns) = (index($flags, 'F') >= 0, $kind eq 'R' || index($flags, 'N') >= 0);
  my $cmd = rd($cl); my $in = $il ? rd($il) : '';
  last unless defined $cmd && defined $in;
  my ($sub, $id, @a) = $kind =~ /\A[pw]\z/ ? cached($cmd) : ();
  # a request that had begun to arrive when the last check began is covered by it (see Stale sessions)
  my $ok = $start < $seen ? !$stale : fresh();
  # a command (or a probe that starts programs) is a new process: with limits or environment files changed it
  # needs a new session, and what comes after it waits for it (so nothing more runs here)
  if ($ok && $pstale && $spawns) { $stale = 1; $ok = 0; }
  if (!$ok && !($force && !$ran)) { wr("S\n"); next; }
  $ran = 1;
  if ($kind eq 'P') { probe($cmd); next; }
  if ($kind eq 'W') { probe($cmd, $in); next; }
  if (defined $id && !$sub) { my $e = "orch runner: no code $id here\n"; wr("X 1 0 " . length($e) . gone() . "\n" . $e); next; }
  if ($sub) { probe($sub, $kind eq 'w' ? $in : undef, @a); next; }
  # out of processes or descriptors (many hosts on one kernel, a fork bomb): an answer, and the runner goes on
  my ($ir, $iw, $or, $ow, $er, $ew); my $pid;
  if (!(pipe($ir, $iw) && pipe($or, $ow) && pipe($er, $ew) && defined($pid = fork()))) {
    my $e = "orch runner: cannot start the command: $!\n"; close $_ for grep { defined } ($ir, $iw, $or, $ow, $er, $ew);
    wr("X 127 0 " . length($e) . gone() . "\n" . $e); next; }
  # the command leads a process group of its own, which a timeout kills (setpgrp: perl's own; setsid would
  # need POSIX, and the runner has no terminal to leave)
  if (!$pid) { setpgrp(0, 0); $SIG{PIPE} = 'DEFAULT'; open(STDIN, '<&', $ir); open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew);
    close $_ for ($iw, $or, $er); exec('/bin/sh', '-c', $cmd); exit 127; }
  close $_ for ($ir, $ow, $ew);
  # the open pipes by descriptor: the command's output and errors, and its input while there is some to write
  my ($out, $err) = ('', ''); my %rd = (fileno($or) => $or, fileno($er) => $er); my $wf;
  if (length $in) { $wf = $iw; } else { close $iw; }
  my @ino = map { (stat $_)[1] } ($or, $er); my $next = $tms ? now() + $tms / 1000 : undef; my $stage = 0;
  while (%rd || $wf) {
    if (defined $next && now() >= $next) {
      if ($stage == 0) { kill('TERM', -$pid, holders(@ino)); kill('CONT', -$pid); $next = now() + 5; }
      elsif ($stage == 1) { kill('KILL', -$pid, holders(@ino)); $next = now() + 1; }
      else { close $_ for (values %rd), grep { defined } $wf; last; }
      $stage++;
    }
    my $wait = defined $next ? $next - now() : undef; $wait = 0 if defined $wait && $wait < 0;
    my ($rv, $wv) = ('', ''); vec($rv, $_, 1) = 1 for keys %rd; vec($wv, fileno($wf), 1) = 1 if $wf;
    next unless select($rv, $wf ? $wv : undef, undef, $wait) > 0;
    # at most a page at a time: a pipe that select says is writable takes that much without blocking
    if ($wf && vec($wv, fileno($wf), 1)) { my $n = syswrite($wf, $in, 4096);
      if (defined $n) { substr($in, 0, $n) = ''; } if (!defined $n || !length $in) { close $wf; undef $wf; } }
    for my $fd (grep { vec($rv, $_, 1) } keys %rd) { my $fh = $rd{$fd}; my $n = sysread($fh, my $buf, 65536);
      if (!$n) { delete $rd{$fd}; close $fh; next; } if ($fh == $or) { $out .= $buf } else { $err .= $buf } }
  }
  waitpid($pid, 0); my $rc = $stage ? 124 : ($? & 127) ? 128 + ($? & 127) : ($? >> 8);
  wr("X $rc " . length($out) . " " . length($err) . gone() . "\n" . $out . $err);
}
