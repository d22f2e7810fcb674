import { keyValues, num, type FactSection } from './sections.js';

/** The login user, the clock and the environment: part of Ansible's `min` subset. */
export const userSection: FactSection = {
  name: 'user',
  subset: 'min',
  script: [
    'echo "user_id=$(id -un)"; echo "uid=$(id -u)"; echo "gid=$(id -g)"; echo "ruid=$(id -ru)"; echo "rgid=$(id -rg)"',
    'echo "passwd=$(getent passwd "$(id -u)")"',
  ].join('; '),
  perl: String.raw`
my @pw = getpwuid($>); my ($eg) = split / /, $); my ($rg) = split / /, $(;
print "user_id=", $pw[0] // "", "\nuid=$>\ngid=$eg\nruid=$<\nrgid=$rg\n";
print "passwd=", (@pw ? join(":", $pw[0], "x", @pw[2, 3, 6, 7, 8]) : ""), "\n";`,
  parse(out) {
    const kv = keyValues(out);
    const [, , , , gecos = '', dir = '', shell = ''] = (kv.get('passwd') ?? '').split(':');
    return {
      user_id: kv.get('user_id'),
      user_uid: num(kv.get('uid'), -1),
      user_gid: num(kv.get('gid'), -1),
      user_gecos: gecos,
      user_dir: dir,
      user_shell: shell,
      effective_user_id: num(kv.get('uid'), -1),
      effective_group_id: num(kv.get('gid'), -1),
      real_user_id: num(kv.get('ruid'), -1),
      real_group_id: num(kv.get('rgid'), -1),
    };
  },
};

/** Ansible's date_time: one `date` call for the local fields; UTC fields computed from the epoch. */
export const dateTimeSection: FactSection = {
  name: 'date_time',
  subset: 'min',
  script: [
    'date "+now=%Y %m %d %H %M %S %s %N %Z %z %A %w %W %j"',
    'y=$(date +%Y); echo "zones=$(date -d "$y-01-01 12:00" "+%Z %z") $(date -d "$y-07-01 12:00" "+%Z %z")"',
  ].join('; '),
  // without Time::HiRes (only perl-base on the host) no nanoseconds in Perl: then `date`, as the script does
  perl: String.raw`
if (eval { require Time::HiRes; 1 }) { my ($s, $us) = Time::HiRes::gettimeofday(); my @lt = localtime($s);
  print POSIX::strftime("now=%Y %m %d %H %M %S ", @lt), $s, sprintf(" %06d000 ", $us), POSIX::strftime("%Z %z %A %w %W %j", @lt), "\n";
  print "zones=", join(" ", map { POSIX::strftime("%Z %z", localtime(POSIX::mktime(0, 0, 12, 1, $_, $lt[5]))) } 0, 6), "\n"; }
else { print $frun->("date", "+now=%Y %m %d %H %M %S %s %N %Z %z %A %w %W %j"); my $y = $frun->("date", "+%Y"); chomp $y;
  print "zones=", join(" ", map { my $z = $frun->("date", "-d", "$y-$_-01 12:00", "+%Z %z"); chomp $z; $z } "01", "07"), "\n"; }`,
  parse(out) {
    const kv = keyValues(out);
    const [
      year = '',
      month = '',
      day = '',
      hour = '',
      minute = '',
      second = '',
      epoch = '0',
      nanos = '000000000',
      tz = '',
      tzOffset = '',
      weekday = '',
      weekdayNumber = '',
      weeknumber = '',
    ] = (kv.get('now') ?? '').split(' ');
    // time.tzname[1]: of January's and July's zone, the one with the larger offset is daylight saving time.
    const [janZone = tz, janOffset = '', julZone = tz, julOffset = ''] = (kv.get('zones') ?? '').split(' ');
    const tzDst =
      Number(julOffset) > Number(janOffset) ? julZone : Number(janOffset) > Number(julOffset) ? janZone : tz;
    const micro = nanos.slice(0, 6);
    const utc = new Date(Number(epoch) * 1000).toISOString().slice(0, 19);
    return {
      date_time: {
        date: `${year}-${month}-${day}`,
        day,
        epoch,
        epoch_int: epoch,
        hour,
        iso8601: `${utc}Z`,
        iso8601_basic: `${year}${month}${day}T${hour}${minute}${second}${micro}`,
        iso8601_basic_short: `${year}${month}${day}T${hour}${minute}${second}`,
        iso8601_micro: `${utc}.${micro}Z`,
        minute,
        month,
        second,
        time: `${hour}:${minute}:${second}`,
        tz,
        tz_dst: tzDst,
        tz_offset: tzOffset,
        weekday,
        weekday_number: weekdayNumber,
        weeknumber,
        year,
      },
    };
  },
};

export const envSection: FactSection = {
  name: 'env',
  subset: 'min',
  script: 'env -0',
  // the runner's environment as it started (what `env -0` would print: nothing changes %ENV), with no process
  perl: 'if (open(my $e, "<", "/proc/self/environ")) { local $/; print <$e> // ""; close $e; } else { print $frun->("env", "-0"); }',
  parse(out) {
    const env: Record<string, string> = {};
    for (const entry of out.replace(/^\n+/, '').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return { env };
  },
};
