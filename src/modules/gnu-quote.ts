/**
 * Perl subs quoting a file name as GNU coreutils does in its messages (gnulib quotearg), so that Perl code
 * standing in for mkdir, chmod, rm... (file-ops-perl.ts) fails with the very text the tool prints:
 * - `$qa`: shell-escape-always (quoteaf: "cannot touch 'a b'", "'a'$'\n''b'", "\"it's\"");
 * - `$qf`: shell-escape, quotes only when needed (quotef: "ln: dir: hard link not allowed for directory");
 * - `$ql`: the locale's quotes (quote: "cannot create directory ‘d’" in a UTF-8 locale, 'd' otherwise).
 * A UTF-8 locale is the one Perl found at its start (LC_CTYPE), as the tools read it from the same environment.
 * Rules: no single quote in the code (it is sent inside `perl -e '...'`).
 */
export const GNU_QUOTE_PERL = [
  // looked up when a message is written: POSIX costs a runner ~6 ms to load, and most runs write no message;
  // loading it must not change $! (the message quotes a name, then says $!)
  'my $u8v; my $u8 = sub { $u8v //= do { local $!; require POSIX;',
  '  ((POSIX::setlocale(POSIX::LC_CTYPE()) // "") =~ /utf-?8/i) ? 1 : 0 } };',
  'my %cesc = ("\\a" => "a", "\\b" => "b", "\\f" => "f", "\\n" => "n", "\\r" => "r", "\\t" => "t", "\\x0b" => "v");',
  // characters: in a UTF-8 locale a valid multibyte sequence is one printable character, else each byte alone
  'my $units = sub { my ($s) = @_; return $u8->()',
  '  ? ($s =~ /([\\xC2-\\xDF][\\x80-\\xBF]|[\\xE0-\\xEF][\\x80-\\xBF]{2}|[\\xF0-\\xF4][\\x80-\\xBF]{3}|[\\x00-\\xFF])/gs)',
  '  : split(//, $s); };',
  'my $unprintable = sub { return length($_[0]) == 1 && $_[0] =~ /[\\x00-\\x1F\\x7F-\\xFF]/; };',
  'my $esc = sub { return "\\\\" . ($cesc{$_[0]} // sprintf("%03o", ord $_[0])); };',
  'my $shq = sub { my ($s, $elide) = @_; my @u = $units->($s); my ($special, $sq, $compat) = (@u ? 0 : 1, 0, 1);',
  '  for my $i (0 .. $#u) { my $c = $u[$i]; next if length($c) > 1;',
  '    if ($unprintable->($c)) { ($special, $compat) = (1, 0); }',
  '    elsif ($c eq chr(39)) { ($special, $sq) = (1, 1); }',
  '    elsif ($c eq " " || ($elide && $c eq ":")) { $special = 1; }',
  '    elsif ($c eq "#" || $c eq "~") { if ($i == 0) { $special = 1 } else { $compat = 0 } }',
  '    elsif ($c eq "{" || $c eq "}") { if (@u == 1) { $special = 1 } else { $compat = 0 } }',
  '    elsif ($c =~ /[!"\\$&()*;<=>\\[^`|?\\\\]/) { ($special, $compat) = (1, 0); } }',
  '  return $s if $elide && !$special;',
  '  return "\\"$s\\"" if $sq && $compat;',
  // a single quote makes gnulib quote twice; the second pass starts in the escape state the first ended in
  '  my ($o, $pend) = (chr(39), $sq && $unprintable->($u[-1]) ? 1 : 0);',
  '  for my $c (@u) {',
  '    if ($unprintable->($c)) { $o .= chr(39) . "\\$" . chr(39) unless $pend; $pend = 1; $o .= $esc->($c); }',
  '    elsif ($c eq chr(39)) { $o .= chr(39) . "\\\\" . chr(39) . chr(39); $pend = 0; }',
  '    else { if ($pend) { $o .= chr(39) . chr(39); $pend = 0; } $o .= $c; } }',
  '  return $o . chr(39); };',
  'my $qa = sub { return $shq->($_[0], 0); };',
  'my $qf = sub { return $shq->($_[0], 1); };',
  'my $ql = sub { my ($lq, $rq) = $u8->() ? ("\\xE2\\x80\\x98", "\\xE2\\x80\\x99") : (chr(39), chr(39));',
  '  my $o = $lq; for my $c ($units->($_[0])) {',
  '    $o .= $unprintable->($c) ? $esc->($c) : ($c eq "\\\\" || $c eq $rq) ? "\\\\$c" : $c; } return $o . $rq; };',
].join('\n');
