import { keyValues, num, type FactSection, type Facts } from './sections.js';

/** DMI files → Ansible's fact names ("NA" when the machine has none). */
const DMI_FACTS: Record<string, string> = {
  bios_date: 'bios_date',
  bios_vendor: 'bios_vendor',
  bios_version: 'bios_version',
  board_asset_tag: 'board_asset_tag',
  board_name: 'board_name',
  board_serial: 'board_serial',
  board_vendor: 'board_vendor',
  board_version: 'board_version',
  chassis_asset_tag: 'chassis_asset_tag',
  chassis_serial: 'chassis_serial',
  chassis_vendor: 'chassis_vendor',
  chassis_version: 'chassis_version',
  product_name: 'product_name',
  product_serial: 'product_serial',
  product_uuid: 'product_uuid',
  product_version: 'product_version',
  sys_vendor: 'system_vendor',
};
const DMI_FILES = Object.keys(DMI_FACTS);

/** Processors, memory and mounts: Ansible's `hardware` subset. */
export const hardwareSection: FactSection = {
  name: 'hardware',
  subset: 'hardware',
  script: [
    'echo "nproc=$(nproc 2>/dev/null || echo 1)"',
    'read -r up _ < /proc/uptime && echo "uptime=$up"',
    "sed -n 's/^\\(processor\\|vendor_id\\|model name\\|physical id\\|cpu cores\\|siblings\\)[[:space:]]*: */cpu_\\1=/p' /proc/cpuinfo",
    "sed -n 's/^\\([A-Za-z_]*\\):[[:space:]]*\\([0-9]*\\).*/mem_\\1=\\2/p' /proc/meminfo",
    // Real filesystems only, as Ansible lists them: a device path (or a network source), not `none`.
    'while read -r dev mnt fstype opts _; do case "$dev" in /*|*:/*) [ "$fstype" = none ] || echo "mount=$dev $mnt $fstype $opts";; esac; done < /proc/mounts',
    'while read -r dev mnt fstype _; do case "$dev" in /*|*:/*) [ "$fstype" = none ] || printf "%b\\0" "$mnt";; esac; done < /proc/mounts | xargs -0 -r stat -f -c "statfs=%S %s %b %f %a %c %d %n" 2>/dev/null',
    `for f in ${DMI_FILES.join(' ')}; do [ -r /sys/devices/virtual/dmi/id/$f ] && echo "dmi_$f=$(cat /sys/devices/virtual/dmi/id/$f 2>/dev/null)"; done`,
    '[ -d /dev/disk/by-uuid ] && for l in /dev/disk/by-uuid/*; do [ -e "$l" ] && echo "uuid=$(readlink -f "$l") ${l##*/}"; done',
  ].join('; '),
  perl: String.raw`
my $np = 1; if (($fread->("/proc/self/status") // "") =~ /^Cpus_allowed_list:\s*(\S+)/m) { $np = 0;
  for (split /,/, $1) { my ($lo, $hi) = split /-/; $np += defined $hi ? $hi - $lo + 1 : 1; } }
print "nproc=$np\n"; my ($up) = split " ", $fread->("/proc/uptime") // ""; print "uptime=$up\n" if defined $up;
for ($flines->("/proc/cpuinfo")) { print "cpu_$1=$2" if /^(processor|vendor_id|model name|physical id|cpu cores|siblings)[^\S\n]*: *(.*)/s; }
for ($flines->("/proc/meminfo")) { print "mem_$1=$2\n" if /^([A-Za-z_]*):[^\S\n]*([0-9]*)/; }
my @mnt; for ($flines->("/proc/mounts")) { my ($dev, $mnt, $fs, $opts) = split " ";
  next unless defined $opts && ($dev =~ m{\A/} || $dev =~ m{:/}) && $fs ne "none"; print "mount=$dev $mnt $fs $opts\n";
  (my $m = $mnt) =~ s/\\([0-7]{3})/chr(oct($1))/ge; push @mnt, $m; }
print $frun->("stat", "-f", "-c", "statfs=%S %s %b %f %a %c %d %n", @mnt) if @mnt;
for (qw(${DMI_FILES.join(' ')})) { my $p = "/sys/devices/virtual/dmi/id/$_"; print "dmi_$_=", $fcat->($p), "\n" if -r $p; }
if (opendir(my $d, "/dev/disk/by-uuid")) { require Cwd; for (sort grep { !/^\./ } readdir $d) {
  my $l = "/dev/disk/by-uuid/$_"; print "uuid=", Cwd::abs_path($l) // "", " $_\n" if -e $l; } }`,
  parse: parseHardware,
};

/** /proc/mounts escapes space, tab, newline and backslash as octal (\040 …). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function cpuFacts(out: string, nproc: number): Facts {
  const processor: string[] = [];
  const physical = new Set<string>();
  let cores = 0;
  let siblings = 0;
  let entries = 0;
  for (const line of out.split('\n')) {
    const m = /^cpu_([a-z_ ]+)=(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value = ''] = m;
    if (key === 'processor') {
      processor.push(value);
      entries++;
    } else if (key === 'vendor_id' || key === 'model name') processor.push(value);
    else if (key === 'physical id') physical.add(value);
    else if (key === 'cpu cores') cores = num(value, 1);
    else if (key === 'siblings') siblings = num(value, 1);
  }
  const count = Math.max(physical.size, 1);
  const perSocket = cores || Math.max(entries, 1);
  const threads = siblings && perSocket ? Math.max(Math.floor(siblings / perSocket), 1) : 1;
  return {
    processor,
    processor_count: count,
    processor_cores: perSocket,
    processor_threads_per_core: threads,
    processor_vcpus: physical.size > 0 ? count * perSocket * threads : Math.max(entries, nproc),
    processor_nproc: nproc,
  };
}

function memoryFacts(kv: Map<string, string>): Facts {
  const mb = (k: string): number => Math.floor(num(kv.get(`mem_${k}`)) / 1024);
  const total = mb('MemTotal');
  const free = mb('MemFree');
  const nocacheFree = free + mb('Buffers') + mb('Cached');
  const swapTotal = mb('SwapTotal');
  const swapFree = mb('SwapFree');
  return {
    memtotal_mb: total,
    memfree_mb: free,
    swaptotal_mb: swapTotal,
    swapfree_mb: swapFree,
    memory_mb: {
      real: { total, free, used: total - free },
      nocache: { free: nocacheFree, used: total - nocacheFree },
      swap: { total: swapTotal, free: swapFree, used: swapTotal - swapFree, cached: mb('SwapCached') },
    },
  };
}

function mountFacts(out: string): Facts[] {
  const uuids = new Map<string, string>();
  const statfs = new Map<string, number[]>();
  const mounts: string[][] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('uuid=')) {
      const [dev = '', uuid = ''] = line.slice(5).split(' ');
      uuids.set(dev, uuid);
    } else if (line.startsWith('statfs=')) {
      const parts = line.slice(7).split(' ');
      statfs.set(
        parts.slice(7).join(' '),
        parts.slice(0, 7).map((p) => num(p)),
      );
    } else if (line.startsWith('mount=')) mounts.push(line.slice(6).split(' '));
  }
  return mounts.map(([dev = '', rawMount = '', fstype = '', options = '']) => {
    const mount = unescapeMount(rawMount);
    const device = unescapeMount(dev);
    const fact: Facts = { device, fstype, mount, options, uuid: uuids.get(device) ?? 'N/A' };
    const s = statfs.get(mount);
    if (s) {
      const [frsize = 0, bsize = 0, blocks = 0, , bavail = 0, files = 0, ffree = 0] = s;
      Object.assign(fact, {
        block_available: bavail,
        block_size: bsize,
        block_total: blocks,
        block_used: blocks - bavail,
        inode_available: ffree,
        inode_total: files,
        inode_used: files - ffree,
        size_available: frsize * bavail,
        size_total: frsize * blocks,
      });
    }
    return fact;
  });
}

export function parseHardware(out: string): Facts {
  const kv = keyValues(out);
  const dmi = Object.fromEntries(
    Object.entries(DMI_FACTS).map(([file, fact]) => [fact, kv.get(`dmi_${file}`) || 'NA']),
  );
  const [up = '0'] = (kv.get('uptime') ?? '').split(' ');
  return {
    ...cpuFacts(out, num(kv.get('nproc'), 1)),
    ...memoryFacts(kv),
    mounts: mountFacts(out),
    ...dmi,
    uptime_seconds: Math.floor(num(up)),
  };
}
