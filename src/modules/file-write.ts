import { ELF_MACHINE_PERL } from '../transport/runner-source.js';
import { perlWrite } from '../transport/write-command.js';
import { plainGroup, plainUser } from './file-ops.js';
import { FILE_OP_PERL } from './file-ops-perl.js';
import { GNU_QUOTE_PERL } from './gnu-quote.js';
import { perlString } from './probe.js';

/**
 * The atomic write of remote-file.ts as Perl code the command runner evaluates in its own process (a write
 * frame, transport/write-command.ts): no sh, mktemp, cat, chmod, chown, sync or mv processes, which were most
 * of a first run's CPU on the host. The same steps in the same order: a private temp file beside the path,
 * the bytes, the old file's mode and owner (0644 for a new one), the mode and owner asked for, fsync, rename.
 * Any failure removes the temp file and leaves the path as it was. Messages are those of the tools it
 * replaces, so a failure reads the same either way.
 */

/**
 * fsync(2) as `$fsync->($fh)`, true when it worked (errno in $! otherwise). By its number where perl's own ELF
 * header says x86-64 (74), arm64 or riscv64 (82): IO's sync loads Carp, ~3 ms in a runner that has not yet;
 * IO elsewhere. Rules: no single quote.
 */
export const FSYNC_PERL = [
  `my $fsync = sub { $main::ORCH_FSYNC //= do { my $m = ${ELF_MACHINE_PERL};`,
  '    $m == 62 ? 74 : $m == 183 || $m == 243 ? 82 : 0 };',
  '  return syscall($main::ORCH_FSYNC, fileno($_[0])) == 0 if $main::ORCH_FSYNC; require IO; return IO::Handle::sync($_[0]); };',
].join('\n');

export interface PerlWriteOptions {
  mode?: string;
  owner?: string;
  group?: string;
  /** a symlink at the path is written through (its target gets the content) */
  throughLinks?: boolean;
  /** once the file is in place: print `mark` and write `text` to `path` (sysctl's live value under /proc) */
  then?: { mark: string; path: string; text: string };
}

/**
 * Whether the Perl write does all that is asked: a validate command, a backup, a symbolic mode, content from
 * a file on the host (copy's remote_src) or an owner in chown's other forms (file-ops.ts) need the shell script.
 */
export function perlWritable(o: {
  mode?: string;
  owner?: string;
  group?: string;
  validate?: string;
  backup?: boolean;
  fromPath?: string;
}) {
  return (
    !o.validate &&
    !o.backup &&
    o.fromPath === undefined &&
    (o.mode === undefined || /^[0-7]{3,5}$/.test(o.mode)) &&
    (o.owner === undefined || plainUser(o.owner)) &&
    (o.group === undefined || plainGroup(o.group))
  );
}

/**
 * One code for every write, its options as values (modules/probe.ts perlString): the runner compiles it once
 * (transport/code-cache.ts) whatever the mode, owner or links of each file.
 */
export function perlWriteCommand(path: string, o: PerlWriteOptions = {}): string {
  const spec = `${o.owner ?? ''}${o.group ? `:${o.group}` : ''}`;
  const value = (v: string | undefined) => perlString(v ?? '');
  return perlWrite(
    [
      'use strict; use Fcntl ();',
      FSYNC_PERL,
      GNU_QUOTE_PERL,
      FILE_OP_PERL.id,
      `my $p = ${perlString(path)}; my ($mode, $spec, $links) = (${value(o.mode)}, ${value(spec)}, ${value(o.throughLinks ? '1' : '')});`,
      'if ($links ne "" && -l $p) { require Cwd; my $r = Cwd::abs_path($p); die "readlink: cannot resolve $p\\n" unless defined $r; $p = $r; }',
      'my $d = $p =~ m{\\A(.*)/[^/]*\\z}s ? ($1 eq "" ? "/" : $1) : ".";',
      'my ($t, $fh);',
      'for (1 .. 100) { $t = sprintf("%s/.orch-tmp.%06X", $d, int(rand(0x1000000)));',
      '  last if sysopen($fh, $t, Fcntl::O_WRONLY() | Fcntl::O_CREAT() | Fcntl::O_EXCL(), 0600);',
      '  undef $fh; last unless $!{EEXIST}; }',
      'die "mktemp: failed to create file via template " . $ql->("$d/.orch-tmp.XXXXXX") . ": $!\\n" unless $fh;',
      // the bytes: in the runner, in the frame; elsewhere streamed from stdin into the 0600 temp file as they come
      // unbuffered (autoflush), so that the fsync below covers every byte
      'my $ok = eval { binmode $fh; select((select($fh), $| = 1)[0]); if (defined $main::ORCH_IN) { print {$fh} $main::ORCH_IN or die "cat: write error: $!\\n"; }',
      '  else { binmode STDIN; while (1) { my $n = sysread(STDIN, my $buf, 65536); die "cat: read error: $!\\n" unless defined $n;',
      '    last unless $n; print {$fh} $buf or die "cat: write error: $!\\n"; } }',
      '  if (my @s = stat $p) { chmod($s[2] & 07777, $t); chown($s[4], $s[5], $t); } else { chmod(0644, $t); }',
      '  if ($mode ne "") { chmod(oct($mode), $t) or die "chmod: changing permissions of " . $qa->($t) . ": $!\\n"; }',
      '  if ($spec ne "") { my ($u, $g) = split /:/, $spec, 2;',
      '    chown($id->("chown", $u, "user", $spec), $id->("chown", $g // "", "group", $spec), $t)',
      '      or die "chown: changing ownership of " . $qa->($t) . ": $!\\n"; }',
      '  $fsync->($fh) or $!{EINVAL} or $!{ENOTSUP} or die "sync: error syncing " . $qa->($t) . ": $!\\n"; close($fh) or die "cat: write error: $!\\n";',
      '  rename($t, $p) or die "mv: cannot move " . $qa->($t) . " to " . $qa->($p) . ": $!\\n"; 1 };',
      'if (!$ok) { my $e = $@; close($fh); unlink($t); die $e; }',
      // sysctl: once the file is in place, the live value
      `my ($mark, $k, $v) = (${value(o.then && `${o.then.mark}\n`)}, ${value(o.then?.path)}, ${value(o.then?.text)});`,
      'if ($k ne "") { print $mark; open(my $kf, ">", $k) or die "cannot create $k: $!\\n";',
      '  defined syswrite($kf, $v) or die "write error: $!\\n"; close($kf); }',
    ].join('\n'),
  );
}
