import { keyValues, type FactSection, type Facts } from './sections.js';

/** System, distribution, lsb, package and service manager, DNS, security modules: Ansible's `min` set. */
export const platformSection: FactSection = {
  name: 'platform',
  subset: 'min',
  script: [
    'echo "hostname=$(hostname -s 2>/dev/null || hostname)"',
    'echo "fqdn=$(hostname -f 2>/dev/null || hostname)"',
    'echo "nodename=$(uname -n)"',
    'echo "kernel=$(uname -r)"',
    'echo "kernel_version=$(uname -v)"',
    'echo "architecture=$(uname -m)"',
    'echo "system=$(uname -s)"',
    'echo "userspace_bits=$(getconf LONG_BIT 2>/dev/null)"',
    '[ -r /etc/os-release ] && sed -n "s/^\\(ID\\|VERSION_ID\\|VERSION_CODENAME\\|PRETTY_NAME\\|ID_LIKE\\|NAME\\)=/os_\\1=/p" /etc/os-release',
    '[ -r /etc/debian_version ] && echo "debian_version=$(cat /etc/debian_version)"',
    '[ -r /etc/lsb-release ] && sed -n "s/^DISTRIB_/lsbfile_/p" /etc/lsb-release',
    'command -v lsb_release >/dev/null && echo lsb_release=1',
    // Ansible reads D-Bus's copy first
    'for f in /var/lib/dbus/machine-id /etc/machine-id; do [ -s "$f" ] && { echo "machine_id=$(head -n1 "$f")"; break; }; done',
    // What Ansible's service manager collector looks at
    'echo "pid1=$(cat /proc/1/comm 2>/dev/null)"',
    'command -v systemctl >/dev/null && echo systemctl=1',
    '{ [ -d /run/systemd/system ] || [ -d /dev/.run/systemd ] || [ -d /dev/.systemd ]; } && echo systemd_running=1',
    '{ command -v initctl >/dev/null && [ -d /etc/init ]; } && echo upstart=1',
    '[ -e /sbin/openrc ] && echo openrc=1',
    '[ -L /sbin/init ] && echo "sbin_init=$(readlink -f /sbin/init)"',
    '[ -d /etc/init.d ] && echo initd=1',
    // Ansible's interpreter discovery prefers /usr/bin/python3 on Debian
    'if [ -x /usr/bin/python3 ]; then echo python3=/usr/bin/python3; else echo "python3=$(command -v python3 || true)"; fi',
    'read -r l1 l5 l15 _ < /proc/loadavg && echo "loadavg=$l1 $l5 $l15"',
    'read -r cmdline < /proc/cmdline && echo "cmdline=$cmdline"',
    'for k in /etc/ssh/ssh_host_*_key.pub; do [ -r "$k" ] && read -r kt kb _ < "$k" && echo "hostkey=$kt $kb"; done',
    '[ -r /etc/resolv.conf ] && sed -n "s/^[[:space:]]*\\(nameserver\\|search\\|domain\\|options\\)[[:space:]]\\+/dns_\\1=/p" /etc/resolv.conf',
    '[ -d /sys/kernel/security/apparmor ] && echo apparmor=1',
    '[ -d /sys/fs/selinux ] && echo selinux=1',
    '[ "$(cat /proc/sys/crypto/fips_enabled 2>/dev/null)" = 1 ] && echo fips=1',
    'echo "nofile_hard=$(ulimit -Hn)"',
  ].join('; '),
  perl: String.raw`
my @u = POSIX::uname(); (my $short = $u[1]) =~ s/\..*//s;
my $fq = (gethostbyname($u[1]))[0]; $fq = $u[1] unless defined $fq && length $fq;
print "hostname=$short\nfqdn=$fq\nnodename=$u[1]\nkernel=$u[2]\nkernel_version=$u[3]\n";
print "architecture=$u[4]\nsystem=$u[0]\nuserspace_bits=", length(pack("l!", 0)) * 8, "\n";
for ($flines->("/etc/os-release")) { print "os_$1=$2" if /^(ID|VERSION_ID|VERSION_CODENAME|PRETTY_NAME|ID_LIKE|NAME)=(.*)/s; }
print "debian_version=", $fcat->("/etc/debian_version"), "\n" if -r "/etc/debian_version";
for ($flines->("/etc/lsb-release")) { print "lsbfile_$1" if /^DISTRIB_(.*)/s; }
print "lsb_release=1\n" if $fwhich->("lsb_release");
for my $f ("/var/lib/dbus/machine-id", "/etc/machine-id") { if (-s $f) { print "machine_id=", $fhead->($f), "\n"; last; } }
print "pid1=", $fcat->("/proc/1/comm"), "\n";
print "systemctl=1\n" if $fwhich->("systemctl");
print "systemd_running=1\n" if -d "/run/systemd/system" || -d "/dev/.run/systemd" || -d "/dev/.systemd";
print "upstart=1\n" if $fwhich->("initctl") && -d "/etc/init";
print "openrc=1\n" if -e "/sbin/openrc";
if (-l "/sbin/init") { require Cwd; print "sbin_init=", Cwd::abs_path("/sbin/init") // "", "\n"; }
print "initd=1\n" if -d "/etc/init.d";
print "python3=", (-x "/usr/bin/python3" ? "/usr/bin/python3" : $fwhich->("python3") // ""), "\n";
my @la = split " ", $fread->("/proc/loadavg") // ""; print "loadavg=@la[0 .. 2]\n" if @la >= 3;
if (defined(my $c = $fread->("/proc/cmdline"))) { $c =~ s/\n.*//s; $c =~ s/^[ \t]+|[ \t]+$//g; print "cmdline=$c\n"; }
if (opendir(my $d, "/etc/ssh")) { for (sort grep { /^ssh_host_.*_key\.pub\z/ } readdir $d) {
  my ($kt, $kb) = split " ", $fhead->("/etc/ssh/$_"); print "hostkey=$kt $kb\n" if defined $kt && -r "/etc/ssh/$_"; } }
for ($flines->("/etc/resolv.conf")) { print "dns_$1=$2" if /^[^\S\n]*(nameserver|search|domain|options)[^\S\n]+(.*)/s; }
print "apparmor=1\n" if -d "/sys/kernel/security/apparmor";
print "selinux=1\n" if -d "/sys/fs/selinux";
print "fips=1\n" if $fcat->("/proc/sys/crypto/fips_enabled") eq "1";
print "nofile_hard=$1\n" if ($fread->("/proc/self/limits") // "") =~ /^Max open files\s+\S+\s+(\S+)/m;`,
  parse: parsePlatform,
};

function osFamily(id: string, idLike: string): string {
  if (id === 'debian' || id === 'ubuntu' || idLike.includes('debian')) return 'Debian';
  if (['rhel', 'centos', 'fedora', 'rocky', 'almalinux'].includes(id) || idLike.includes('rhel')) return 'RedHat';
  if (id === 'arch') return 'Archlinux';
  if (id.startsWith('opensuse') || id === 'sles') return 'Suse';
  if (id === 'alpine') return 'Alpine';
  return capitalise(id);
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Ansible's ServiceMgrFactCollector: PID 1's name unless it is `init` or a shell, then what the files say. */
export function serviceManager(kv: Map<string, string>): string {
  const pid1 = kv.get('pid1') ?? '';
  if (pid1 && pid1 !== 'init' && !pid1.endsWith('sh')) return pid1;
  if (kv.get('systemctl') && kv.get('systemd_running')) return 'systemd';
  if (kv.get('upstart')) return 'upstart';
  if (kv.get('openrc')) return 'openrc';
  if (kv.get('systemctl') && (kv.get('sbin_init') ?? '').endsWith('systemd')) return 'systemd';
  if (kv.get('initd')) return 'sysvinit';
  return 'service';
}

function lsbFacts(kv: Map<string, string>): Facts {
  // Debian's lsb_release prints what os-release says; reading os-release saves starting Python on the target.
  if (kv.get('lsb_release')) {
    const release = kv.get('os_VERSION_ID') ?? '';
    return {
      codename: kv.get('os_VERSION_CODENAME') ?? '',
      description: kv.get('os_PRETTY_NAME') ?? '',
      id: (kv.get('os_NAME') ?? '').split(' ')[0] ?? '',
      major_release: release.split('.')[0] ?? '',
      release,
    };
  }
  const release = kv.get('lsbfile_RELEASE');
  if (release === undefined) return {};
  return {
    codename: kv.get('lsbfile_CODENAME') ?? '',
    description: kv.get('lsbfile_DESCRIPTION') ?? '',
    id: kv.get('lsbfile_ID') ?? '',
    major_release: release.split('.')[0] ?? '',
    release,
  };
}

function dnsFacts(out: string): Facts {
  const dns: {
    nameservers?: string[];
    search?: string[];
    domain?: string;
    options?: Record<string, string | boolean>;
  } = {};
  for (const line of out.split('\n')) {
    const m = /^dns_(\w+)=(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value = ''] = m;
    if (key === 'nameserver') (dns.nameservers ??= []).push(value.trim().split(/\s+/)[0] ?? '');
    else if (key === 'search') dns.search = value.trim().split(/\s+/);
    else if (key === 'domain') dns.domain = value.trim().split(/\s+/)[0] ?? '';
    else if (key === 'options') {
      for (const opt of value.trim().split(/\s+/)) {
        const [k = '', v] = opt.split(':');
        (dns.options ??= {})[k] = v ?? true;
      }
    }
  }
  return dns;
}

function loadavg(v: string | undefined): Facts {
  const [m1 = '0', m5 = '0', m15 = '0'] = (v ?? '').split(' ');
  return { '1m': Number(m1), '5m': Number(m5), '15m': Number(m15) };
}

/** `key=value` words of the kernel command line; proc_cmdline keeps every value of a repeated key as a list. */
function kernelCmdline(line: string, lists = false): Facts {
  const out: Facts = {};
  for (const word of line.trim().split(/\s+/).filter(Boolean)) {
    const eq = word.indexOf('=');
    const key = eq < 0 ? word : word.slice(0, eq);
    const value: string | boolean = eq < 0 ? true : word.slice(eq + 1);
    const prev = out[key];
    if (lists && prev !== undefined) out[key] = Array.isArray(prev) ? [...(prev as unknown[]), value] : [prev, value];
    else out[key] = value;
  }
  return out;
}

/** ssh_host_key_<type>_public and _keytype, as Ansible names them (ed25519, ecdsa, rsa, dsa). */
function sshHostKeys(out: string): Facts {
  const facts: Facts = {};
  for (const line of out.split('\n')) {
    if (!line.startsWith('hostkey=')) continue;
    const [type = '', blob = ''] = line.slice(8).split(' ');
    const short =
      type === 'ssh-ed25519'
        ? 'ed25519'
        : type.startsWith('ecdsa-')
          ? 'ecdsa'
          : type === 'ssh-rsa'
            ? 'rsa'
            : type === 'ssh-dss'
              ? 'dsa'
              : undefined;
    if (!short) continue;
    facts[`ssh_host_key_${short}_public`] = blob;
    facts[`ssh_host_key_${short}_public_keytype`] = type;
  }
  return facts;
}

export function parsePlatform(out: string): Facts {
  const kv = keyValues(out);
  const id = kv.get('os_ID') ?? 'unknown';
  const version = kv.get('os_VERSION_ID') ?? '';
  const family = osFamily(id, kv.get('os_ID_LIKE') ?? '');
  const debianVersion = kv.get('debian_version');
  // Ansible reports Debian's point release (12.11) from /etc/debian_version, when it is a number.
  const fullVersion = debianVersion && /^\d/.test(debianVersion) ? debianVersion : version;
  const fqdn = kv.get('fqdn') ?? '';
  const nofile = kv.get('nofile_hard');
  return {
    hostname: kv.get('hostname'),
    fqdn,
    domain: fqdn.includes('.') ? fqdn.slice(fqdn.indexOf('.') + 1) : '',
    nodename: kv.get('nodename'),
    kernel: kv.get('kernel'),
    kernel_version: kv.get('kernel_version'),
    architecture: kv.get('architecture'),
    machine: kv.get('architecture'),
    userspace_architecture: kv.get('architecture'),
    userspace_bits: kv.get('userspace_bits') ?? '',
    system: kv.get('system'),
    machine_id: kv.get('machine_id'),
    distribution: id === 'unknown' ? 'NA' : capitalise(id),
    distribution_version: fullVersion,
    distribution_major_version: fullVersion.split('.')[0] ?? '',
    distribution_minor_version: fullVersion.split('.')[1] ?? '',
    distribution_release: kv.get('os_VERSION_CODENAME') ?? '',
    distribution_file_parsed: kv.has('os_ID'),
    distribution_file_path: kv.has('os_ID') ? '/etc/os-release' : undefined,
    distribution_file_variety: family === 'Debian' ? 'Debian' : undefined,
    os_family: family,
    lsb: lsbFacts(kv),
    pkg_mgr: family === 'Debian' ? 'apt' : family === 'RedHat' ? 'dnf' : 'unknown',
    service_mgr: serviceManager(kv),
    python: { executable: kv.get('python3') || null },
    dns: dnsFacts(out),
    loadavg: loadavg(kv.get('loadavg')),
    cmdline: kernelCmdline(kv.get('cmdline') ?? ''),
    proc_cmdline: kernelCmdline(kv.get('cmdline') ?? '', true),
    ...sshHostKeys(out),
    apparmor: { status: kv.get('apparmor') ? 'enabled' : 'disabled' },
    selinux: { status: kv.get('selinux') ? 'enabled' : 'disabled' },
    fips: kv.get('fips') === '1',
    // Open files a service may raise itself to (services size their connection limits from it).
    nofile_hard: nofile === 'unlimited' ? 1048576 : Number(nofile ?? 1024),
  };
}
