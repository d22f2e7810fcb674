import type { ClientChannel } from 'ssh2';
import { BecomeHandshake, type BecomeIds } from './become.js';
import { BoundedOutput } from './output.js';
import { quote } from './quote.js';
import type { BecomeSettings, ExecResult } from './types.js';

/**
 * A persistent command runner on the target: one exec channel (under sudo when needed) runs a small
 * Perl loop (perl-base is part of every Debian system) that reads framed commands and answers with
 * framed results. A task then costs one message round trip on an open channel instead of a new SSH
 * session + sudo + shell per command (the idea behind Mitogen).
 *
 * Request:  "R <cmdlen> <stdinlen> <timeout ms>\n" <cmd> <stdin>   → runs /bin/sh -c <cmd> in its own session
 * Response: "X <rc> <outlen> <errlen>\n" <stdout> <stderr>
 * A timeout (0: none) is kept by the runner: at the limit the command's process group and every process
 * still holding its output pipes (a child that left the group: `setsid cmd &`) get SIGTERM, 5 s later
 * SIGKILL, and 1 s after that the runner stops waiting for the pipes; the answer is rc 124. The runner
 * thus always answers and stays usable for the next task.
 * A probe (modules/probe.ts: `perl -e '<code>' orch-probe`, exactly) is evaluated in the runner itself,
 * without a new process; rc 1 and the Perl error when it dies.
 *
 * Stale sessions: a runner keeps the groups, resource limits and environment that sshd/sudo/su/PAM gave it
 * when it started, while Ansible starts every task in a new sudo session. So the runner notes, when it
 * starts, the files those are computed from (SESSION_FILES: passwd/group, PAM and its limits and env files,
 * sudoers, the shell's rc files) and, before each command or probe, checks that none changed (stat: ~40 µs;
 * a file changed in the last second is also compared by content, as stat has whole seconds only). A change
 * of /etc/passwd or /etc/group alone counts only when the runner user's own entry or group list differs
 * (creating another user does not). When one changed, by any task, module or process, it runs nothing more
 * and answers "S\n" to this and every later request; the controller starts a new runner (a new sudo/su
 * session, as Ansible's next task would get) and sends the commands again there. A header ending in " F"
 * runs the command even so when it is the runner's first (a retry's last resort).
 * The check also runs after each command: a reply "X ... S" says that command changed them, so the
 * controller sends the next one to a new runner at once (no "S" round trip after a changing task).
 */
const DRIVER = String.raw`
use strict; use POSIX (); use IO::Select;
$SIG{PIPE} = 'IGNORE'; binmode STDIN; binmode STDOUT; $| = 1;
sub rd { my ($n) = @_; my $b = ''; while (length($b) < $n) { my $r = sysread(STDIN, $b, $n - length($b), length($b)); return undef unless $r; } return $b; }
sub line { my $l = ''; while (1) { my $c; my $r = sysread(STDIN, $c, 1); return undef unless $r; return $l if $c eq "\n"; $l .= $c; } }
sub wr { my ($d) = @_; while (length $d) { my $w = syswrite(STDOUT, $d); exit 0 unless defined $w; substr($d, 0, $w) = ''; } }
my $tck = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
sub now { return (POSIX::times())[0] / $tck; }
sub holders { my %want = map { ("pipe:[$_]" => 1) } @_; my @p; opendir(my $d, '/proc') or return ();
  for my $p (readdir $d) { next unless $p =~ /\A\d+\z/ && $p != $$; opendir(my $f, "/proc/$p/fd") or next;
    for my $fd (readdir $f) { my $l = readlink("/proc/$p/fd/$fd"); if (defined $l && $want{$l}) { push @p, $p; last; } } }
  return @p; }
sub probe { my ($code) = @_; my $out = ''; open(my $o, '>', \$out) or die; my $old = select($o);
  my $ok = eval "$code; 1"; my $err = $ok ? '' : "$@"; select($old); close $o;
  wr("X " . ($ok ? 0 : 1) . " " . length($out) . " " . length($err) . gone() . "\n" . $out . $err); }
my @SF = (qw(SESSION_FILES), map { "$ENV{HOME}/$_" } qw(HOME_FILES));
sub slurp { my ($f) = @_; open(my $fh, '<', $f) or return "\0"; local $/; my $c = <$fh>; return defined $c ? $c : "\0"; }
sub fp { my $now = time; my %s; my @rec; my @f;
  for my $p (@SF) { push @f, $p; if ($p =~ m{/\z} && opendir(my $d, $p)) { push @f, map { "$p$_" } sort grep { !/\A\.\.?\z/ } readdir $d; } }
  for my $f (@f) { my @st = stat $f; $s{$f} = @st ? "@st[0,1,7,9,10]" : '-'; push @rec, $f if @st && -f _ && $st[10] >= $now - 1; }
  return (\%s, @rec); }
sub who { my @pw = getpwuid($<); return '-' unless @pw; my %g = ($pw[3] => 1); setgrent();
  while (my @gr = getgrent()) { $g{$gr[2]} = 1 if grep { $_ eq $pw[0] } split / /, $gr[3]; } endgrent();
  return join(' ', @pw[0,2,3,7,8], sort { $a <=> $b } keys %g); }
my ($fp0, @rec0) = fp(); my %fpc = map { ($_ => slurp($_)) } @rec0; my $who0 = who(); my $stale = 0; my $ran = 0;
sub fresh { return 0 if $stale; my ($s, @rec) = fp(); my %now = map { ($_ => 1) } @rec; my %k = (%$s, %$fp0);
  my @ch = grep { ($s->{$_} // '') ne ($fp0->{$_} // '') || (exists $fpc{$_} && slurp($_) ne $fpc{$_}) } keys %k;
  if (!@ch) { delete @fpc{grep { !$now{$_} } keys %fpc}; return 1; }
  if (grep({ $_ ne '/etc/passwd' && $_ ne '/etc/group' } @ch) || who() ne $who0) { $stale = 1; return 0; }
  $fp0 = $s; %fpc = map { ($_ => slurp($_)) } @rec; return 1; }
sub gone { return fresh() ? '' : ' S'; }
wr("ORCH-DRIVER-READY\n");
while (defined(my $h = line())) {
  my (undef, $cl, $il, $tms, $force) = split / /, $h;
  my $cmd = rd($cl); my $in = $il ? rd($il) : '';
  last unless defined $cmd && defined $in;
  if (!fresh() && !($force && !$ran)) { wr("S\n"); next; }
  $ran = 1;
  if ($cmd =~ /\Aperl -e '([^']*)' orch-probe\z/) { probe($1); next; }
  pipe(my $ir, my $iw) or die; pipe(my $or, my $ow) or die; pipe(my $er, my $ew) or die;
  my $pid = fork();
  if (!$pid) { POSIX::setsid(); $SIG{PIPE} = 'DEFAULT'; open(STDIN, '<&', $ir); open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew);
    close $_ for ($iw, $or, $er); exec('/bin/sh', '-c', $cmd); POSIX::_exit(127); }
  close $_ for ($ir, $ow, $ew);
  my ($out, $err) = ('', ''); my $ws = IO::Select->new(); my $rs = IO::Select->new($or, $er);
  if (length $in) { $ws->add($iw); } else { close $iw; }
  my @ino = map { (stat $_)[1] } ($or, $er); my $next = $tms ? now() + $tms / 1000 : undef; my $stage = 0;
  while ($rs->count || $ws->count) {
    if (defined $next && now() >= $next) {
      if ($stage == 0) { kill('TERM', -$pid, holders(@ino)); kill('CONT', -$pid); $next = now() + 5; }
      elsif ($stage == 1) { kill('KILL', -$pid, holders(@ino)); $next = now() + 1; }
      else { close $_ for ($rs->handles, $ws->handles); last; }
      $stage++;
    }
    my $wait = defined $next ? $next - now() : undef; $wait = 0 if defined $wait && $wait < 0;
    my ($r, $w) = IO::Select->select($rs, $ws, undef, $wait);
    for my $fh (@{$w || []}) { my $n = syswrite($fh, $in); if (!defined $n) { $ws->remove($fh); close $fh; next; }
      substr($in, 0, $n) = ''; if (!length $in) { $ws->remove($fh); close $fh; } }
    for my $fh (@{$r || []}) { my $buf; my $n = sysread($fh, $buf, 65536);
      if (!$n) { $rs->remove($fh); close $fh; next; } if ($fh == $or) { $out .= $buf } else { $err .= $buf } }
  }
  waitpid($pid, 0); my $rc = $stage ? 124 : ($? & 127) ? 128 + ($? & 127) : ($? >> 8);
  wr("X $rc " . length($out) . " " . length($err) . gone() . "\n" . $out . $err);
}
`;

/**
 * What a new session is computed from (a trailing / stands for the directory and every file in it):
 * the user database (uid, groups, home, shell), PAM's configuration with its limits and environment
 * files, sudo's policy (env_reset, secure_path), and the rc files the login shell reads for sshd.
 */
export const SESSION_FILES = [
  '/etc/passwd', '/etc/group', '/etc/nsswitch.conf', '/etc/pam.d/', '/etc/security/', '/etc/security/limits.d/',
  '/etc/environment', '/etc/default/locale', '/etc/login.defs', '/etc/sudoers', '/etc/sudoers.d/', '/etc/sudo.conf',
  '/etc/bash.bashrc', '/etc/zsh/zshenv',
];
/** The same, in the runner user's home. */
export const HOME_FILES = ['.bashrc', '.zshenv', '.ssh/environment', '.pam_environment'];

export const DRIVER_COMMAND = `exec perl -e ${quote(DRIVER.trim().replace('qw(SESSION_FILES)', `qw(${SESSION_FILES.join(' ')})`).replace('qw(HOME_FILES)', `qw(${HOME_FILES.join(' ')})`))}`;
const READY = 'ORCH-DRIVER-READY\n';
const STARTUP_TIMEOUT_MS = 30_000;

/** The runner found its session out of date (see "Stale sessions" above) and ran nothing: send again to a new one. */
export class StaleSession extends Error {
  constructor() {
    super('the command runner\'s session is out of date (users, groups, limits or environment files changed)');
  }
}

interface Pending {
  resolve(r: ExecResult): void;
  reject(e: Error): void;
}

/**
 * The round trips of one host, over all its runners (one per sudo user, all on one SSH connection):
 * commands sent together (a batch of queries for root and for postgres, a write and the queries fetched
 * behind it) share one; a command sent after any answer came back may depend on it: a new one.
 */
export class InFlight {
  private answeredSinceSend = true;

  constructor(private readonly onRoundTrip: () => void = () => undefined) {}

  sent(): void {
    if (this.answeredSinceSend) this.onRoundTrip();
    this.answeredSinceSend = false;
  }

  answered(): void {
    this.answeredSinceSend = true;
  }
}

/** The controller's end of one driver: commands are queued, one runs at a time. */
export class DriverSession {
  private buf: Buffer = Buffer.alloc(0);
  private ready = false;
  private dead: Error | undefined;
  private readonly queue: { cmd: Buffer; stdin: Buffer; timeoutMs: number; force: boolean; p: Pending }[] = [];
  /** sent, not yet answered, in order: the runner answers in the order it reads */
  private readonly inflight: Pending[] = [];
  private header: { rc: number; out: number; err: number; stale: boolean } | undefined;
  private out = new BoundedOutput();
  private err = new BoundedOutput();
  private startup: { resolve(): void; reject(e: Error): void } | undefined;
  private startupErr = '';
  /** sudo/su before the runner starts (become.ts): the password goes only to their prompt */
  private readonly handshake: BecomeHandshake | undefined;
  commands = 0;

  constructor(
    private readonly channel: ClientChannel,
    host: string,
    become: { settings: BecomeSettings; ids: BecomeIds } | undefined,
    /** told when a command goes out and when its answer is in (the host's round trips: see InFlight) */
    private readonly traffic: InFlight = new InFlight(),
  ) {
    this.handshake = become
      ? new BecomeHandshake(host, become.settings, become.ids, { send: (s) => channel.write(s), abort: () => channel.close(), started: () => undefined })
      : undefined;
    channel.on('data', (d: Buffer) => this.onData(d));
    channel.stderr.on('data', (d: Buffer) => {
      if (this.ready) return;
      this.startupErr += (this.handshake ? this.handshake.feed(d) : d).toString();
    });
    // Whatever else stops the runner from starting must not hang the run.
    const startTimer = setTimeout(() => {
      if (!this.ready) {
        this.startupErr ||= `the command runner did not start within ${STARTUP_TIMEOUT_MS / 1000} s`;
        channel.close();
      }
    }, STARTUP_TIMEOUT_MS);
    startTimer.unref();
    channel.on('close', () => {
      clearTimeout(startTimer);
      if (!this.ready && this.handshake && !this.handshake.done) return this.fail(this.handshake.failure());
      this.fail(new Error(this.ready ? 'command runner on the host stopped' : this.startupErr.trim() || 'command runner did not start'));
    });
  }

  /** Resolves once the driver said it is ready; rejects with why it did not start (BecomeError: sudo/su refused). */
  started(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => (this.startup = { resolve, reject }));
  }

  get alive(): boolean {
    return !this.dead;
  }

  /**
   * Run a command; `timeoutMs` is kept by the runner (see the protocol above). Rejects with StaleSession
   * when the runner's session is out of date (nothing ran), unless `force`.
   */
  run(command: string, stdin: Buffer, timeoutMs = 0, force = false): Promise<ExecResult> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.queue.push({ cmd: Buffer.from(command), stdin, timeoutMs: Math.max(0, Math.round(timeoutMs)), force, p: { resolve, reject } });
      this.pump();
    });
  }

  close(): void {
    this.channel.end();
  }

  /** Send everything queued at once (pipelining): the runner reads and answers one after the other. */
  private pump(): void {
    if (!this.ready || this.dead) return;
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      this.traffic.sent();
      this.inflight.push(next.p);
      this.commands++;
      const header = `R ${next.cmd.length} ${next.stdin.length} ${next.timeoutMs}${next.force ? ' F' : ''}\n`;
      this.channel.write(Buffer.concat([Buffer.from(header), next.cmd, next.stdin]));
    }
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    this.startup?.reject(e);
    this.startup = undefined;
    for (const p of this.inflight) {
      this.traffic.answered();
      p.reject(e);
    }
    this.inflight.length = 0;
    for (const q of this.queue) q.p.reject(e);
    this.queue.length = 0;
  }

  /** The session is out of date: what was sent after goes to a new runner (the runner answers it with "S"). */
  private retire(): void {
    this.fail(new StaleSession());
    this.channel.end();
  }

  private onData(d: Buffer): void {
    if (this.dead) return; // a retired runner's "S" answers to what was already sent
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (!this.ready) {
      const i = this.buf.indexOf(READY);
      if (i < 0) return;
      this.buf = this.buf.subarray(i + READY.length);
      this.ready = true;
      this.startup?.resolve();
      this.startup = undefined;
      this.pump();
    }
    this.parse();
  }

  /** Move up to `wanted` buffered bytes into `into`; returns how many are still to come. */
  private take(wanted: number, into: BoundedOutput): number {
    if (wanted <= 0) return 0;
    const chunk = this.buf.subarray(0, wanted);
    into.push(chunk);
    this.buf = this.buf.subarray(chunk.length);
    return wanted - chunk.length;
  }

  /** Streams a response's bytes into bounded buffers: a huge output never sits whole in memory. */
  private parse(): void {
    for (;;) {
      if (!this.header) {
        const nl = this.buf.indexOf(10);
        if (nl < 0) return;
        // this request and every later one were not run: they go to a new runner (SshTransport)
        if (this.buf.subarray(0, nl).toString() === 'S') return this.retire();
        const m = /^X (\d+) (\d+) (\d+)( S)?$/.exec(this.buf.subarray(0, nl).toString());
        if (!m) return this.fail(new Error('command runner sent a garbled reply'));
        this.header = { rc: Number(m[1]), out: Number(m[2]), err: Number(m[3]), stale: m[4] !== undefined };
        this.buf = this.buf.subarray(nl + 1);
      }
      const h = this.header;
      h.out = this.take(h.out, this.out);
      if (h.out > 0) return;
      h.err = this.take(h.err, this.err);
      if (h.err > 0) return;
      const done = this.inflight.shift();
      if (done) this.traffic.answered();
      const result: ExecResult = { rc: h.rc, stdout: this.out.text(), stderr: this.err.text(), truncated: this.out.truncated || this.err.truncated || undefined };
      this.header = undefined;
      this.out = new BoundedOutput();
      this.err = new BoundedOutput();
      done?.resolve(result);
      if (h.stale) return this.retire();
    }
  }
}
