import type { Transport } from '../transport/types.js';

/**
 * Facts in one round trip: one shell script prints `key=value` lines; a pure parser turns them into
 * Ansible's fact names. Each line is cheap (no Python on the target).
 */
export const FACTS_SCRIPT = [
  'echo "hostname=$(hostname -s 2>/dev/null || hostname)"',
  'echo "fqdn=$(hostname -f 2>/dev/null || hostname)"',
  'echo "nodename=$(uname -n)"',
  'echo "kernel=$(uname -r)"',
  'echo "architecture=$(uname -m)"',
  'echo "system=$(uname -s)"',
  '[ -r /etc/os-release ] && sed -n "s/^\\(ID\\|VERSION_ID\\|VERSION_CODENAME\\|PRETTY_NAME\\|ID_LIKE\\)=/os_\\1=/p" /etc/os-release',
  '[ -r /etc/debian_version ] && echo "debian_version=$(cat /etc/debian_version)"',
  'echo "vcpus=$(nproc 2>/dev/null || echo 1)"',
  'awk \'/^MemTotal:/{print "memtotal_kb="$2} /^MemFree:/{print "memfree_kb="$2} /^SwapTotal:/{print "swaptotal_kb="$2}\' /proc/meminfo',
  'if [ -d /run/systemd/system ]; then echo service_mgr=systemd; else echo service_mgr=sysvinit; fi',
  'echo "pid1=$(cat /proc/1/comm 2>/dev/null)"',
  'ip -4 -o addr show 2>/dev/null | awk \'{print "ipv4="$2" "$4}\'',
  'echo "default_if=$(ip -4 route show default 2>/dev/null | awk \'{print $5; exit}\')"',
  'echo "user_id=$(id -un)"',
  'echo "user_uid=$(id -u)"',
  'echo "date_epoch=$(date +%s)"',
  'echo "python3=$(command -v python3 || true)"',
  'echo "nofile_hard=$(ulimit -Hn)"',
].join('; ');

export type Facts = Record<string, unknown>;

/** Pure: script output → facts (with and without the ansible_ prefix, as Ansible exposes them). */
export function parseFacts(out: string): Facts {
  const kv = new Map<string, string>();
  const addrs: { iface: string; address: string; prefix: number }[] = [];
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 1) continue;
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1).replace(/^"(.*)"$/, '$1');
    if (k === 'ipv4') {
      const [iface = '', cidr = ''] = v.split(' ');
      const [address = '', prefix = '32'] = cidr.split('/');
      addrs.push({ iface, address, prefix: Number(prefix) });
    } else kv.set(k, v);
  }
  const id = kv.get('os_ID') ?? 'unknown';
  const version = kv.get('os_VERSION_ID') ?? kv.get('debian_version') ?? '';
  const family = id === 'debian' || id === 'ubuntu' || (kv.get('os_ID_LIKE') ?? '').includes('debian') ? 'Debian' : id === 'rhel' || id === 'centos' || id === 'fedora' ? 'RedHat' : id;
  const memKb = Number(kv.get('memtotal_kb') ?? 0);
  const defaultIf = kv.get('default_if') ?? '';
  const primary = addrs.find((a) => a.iface === defaultIf) ?? addrs.find((a) => a.iface !== 'lo');
  const facts: Facts = {
    hostname: kv.get('hostname'),
    fqdn: kv.get('fqdn'),
    nodename: kv.get('nodename'),
    kernel: kv.get('kernel'),
    architecture: kv.get('architecture'),
    system: kv.get('system'),
    distribution: id.charAt(0).toUpperCase() + id.slice(1),
    distribution_version: kv.get('debian_version') ?? version,
    distribution_major_version: version.split('.')[0] ?? '',
    distribution_release: kv.get('os_VERSION_CODENAME') ?? '',
    os_family: family,
    pkg_mgr: family === 'Debian' ? 'apt' : 'unknown',
    processor_vcpus: Number(kv.get('vcpus') ?? 1),
    processor_cores: Number(kv.get('vcpus') ?? 1),
    memtotal_mb: Math.floor(memKb / 1024),
    memfree_mb: Math.floor(Number(kv.get('memfree_kb') ?? 0) / 1024),
    swaptotal_mb: Math.floor(Number(kv.get('swaptotal_kb') ?? 0) / 1024),
    service_mgr: kv.get('service_mgr'),
    all_ipv4_addresses: addrs.filter((a) => a.iface !== 'lo').map((a) => a.address),
    default_ipv4: primary ? { address: primary.address, interface: primary.iface, prefix: String(primary.prefix) } : {},
    interfaces: [...new Set(addrs.map((a) => a.iface))],
    user_id: kv.get('user_id'),
    user_uid: Number(kv.get('user_uid') ?? -1),
    date_time: { epoch: kv.get('date_epoch') },
    python: { executable: kv.get('python3') || null },
    // Open files a service may raise itself to (services size their connection limits from it).
    nofile_hard: kv.get('nofile_hard') === 'unlimited' ? 1048576 : Number(kv.get('nofile_hard') ?? 1024),
  };
  return facts;
}

/** Facts as variables: `ansible_facts` plus the `ansible_*` names playbooks use. */
export function factVariables(facts: Facts): Record<string, unknown> {
  const vars: Record<string, unknown> = { ansible_facts: facts };
  for (const [k, v] of Object.entries(facts)) vars[`ansible_${k}`] = v;
  return vars;
}

export async function gatherFacts(t: Transport): Promise<Facts> {
  const r = await t.exec(FACTS_SCRIPT);
  return parseFacts(r.stdout);
}
