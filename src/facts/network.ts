import type { FactSection, Facts } from './sections.js';

/** Interfaces, addresses and default routes: Ansible's `network` subset. */
export const networkSection: FactSection = {
  name: 'network',
  subset: 'network',
  script: [
    'ip -o link show 2>/dev/null | sed "s/^/link: /"',
    'ip -o addr show 2>/dev/null | sed "s/^/addr: /"',
    'ip -4 route show default 2>/dev/null | sed "s/^/route4: /"',
    'ip -6 route show default 2>/dev/null | sed "s/^/route6: /"',
  ].join('; '),
  perl: String.raw`
for (["link", "-o", "link", "show"], ["addr", "-o", "addr", "show"], ["route4", "-4", "route", "show", "default"],
  ["route6", "-6", "route", "show", "default"]) { my ($p, @a) = @$_; my $o = $frun->("ip", @a); $o =~ s/^/$p: /mg; print $o; }`,
  parse: parseNetwork,
};

interface Ipv4 {
  address: string;
  broadcast: string;
  netmask: string;
  network: string;
  prefix: string;
}

interface Iface {
  device: string;
  active: boolean;
  type: string;
  mtu: number;
  promisc: boolean;
  macaddress?: string;
  ipv4?: Ipv4;
  ipv4_secondaries?: Ipv4[];
  ipv6?: { address: string; prefix: string; scope: string }[];
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + (Number(part) & 255), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function ipv4Of(cidr: string, broadcast: string): Ipv4 {
  const [address = '', p = '32'] = cidr.split('/');
  const prefix = Number(p);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return {
    address,
    broadcast,
    netmask: intToIp(mask),
    network: intToIp((ipToInt(address) & mask) >>> 0),
    prefix: String(prefix),
  };
}

/** Ansible names interface facts `ansible_<device>` with `-` and `:` turned into `_`. */
export function interfaceFactName(device: string): string {
  return device.replace(/[-:]/g, '_');
}

function parseLink(line: string): Iface | undefined {
  // "2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc ... state UP ...\    link/ether 02:00:... brd ..."
  const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+<([^>]*)>\s+mtu\s+(\d+)/.exec(line);
  if (!m) return undefined;
  const [, device = '', flags = '', mtu = '0'] = m;
  const flagList = flags.split(',');
  const link = /link\/(\S+)(?:\s+([0-9a-f:]{17}))?/.exec(line);
  const kind = link?.[1] ?? 'unknown';
  const iface: Iface = {
    device,
    active: flagList.includes('UP'),
    type: kind === 'ether' ? 'ether' : kind === 'loopback' ? 'loopback' : kind === 'none' ? 'tunnel' : kind,
    mtu: Number(mtu),
    promisc: flagList.includes('PROMISC'),
  };
  if (kind === 'ether' && link?.[2]) iface.macaddress = link[2];
  return iface;
}

function routeOf(lines: string[]): { gateway?: string; interface?: string } {
  const first = lines[0];
  if (!first) return {};
  return { gateway: /\bvia\s+(\S+)/.exec(first)?.[1], interface: /\bdev\s+(\S+)/.exec(first)?.[1] };
}

export function parseNetwork(out: string): Facts {
  const ifaces = new Map<string, Iface>();
  const route4: string[] = [];
  const route6: string[] = [];
  const all4: string[] = [];
  const all6: string[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('link: ')) {
      const iface = parseLink(line.slice(6));
      if (iface) ifaces.set(iface.device, iface);
    } else if (line.startsWith('route4: ')) route4.push(line.slice(8));
    else if (line.startsWith('route6: ')) route6.push(line.slice(8));
    else if (line.startsWith('addr: ')) {
      const m = /^\d+:\s+(\S+)\s+(inet6?)\s+(\S+)(?:\s+brd\s+(\S+))?.*?\bscope\s+(\S+)/.exec(line.slice(6));
      const iface = m ? ifaces.get(m[1] ?? '') : undefined;
      if (!m || !iface) continue;
      const [, , family, cidr = '', brd = '', scope = ''] = m;
      if (family === 'inet') {
        const v4 = ipv4Of(cidr, brd);
        if (!iface.ipv4) iface.ipv4 = v4;
        else (iface.ipv4_secondaries ??= []).push(v4);
        if (!v4.address.startsWith('127.')) all4.push(v4.address);
      } else {
        const [address = '', prefix = '128'] = cidr.split('/');
        (iface.ipv6 ??= []).push({ address, prefix, scope });
        if (address !== '::1') all6.push(address);
      }
    }
  }
  const facts: Facts = {
    interfaces: [...ifaces.keys()],
    all_ipv4_addresses: all4,
    all_ipv6_addresses: all6,
    default_ipv4: defaultAddress(ifaces, routeOf(route4), 4),
    default_ipv6: defaultAddress(ifaces, routeOf(route6), 6),
  };
  for (const iface of ifaces.values()) facts[interfaceFactName(iface.device)] = iface;
  return facts;
}

function defaultAddress(
  ifaces: Map<string, Iface>,
  route: { gateway?: string; interface?: string },
  family: 4 | 6,
): Facts {
  const iface = route.interface ? ifaces.get(route.interface) : undefined;
  if (!iface) return {};
  const common = {
    interface: iface.device,
    alias: iface.device,
    gateway: route.gateway,
    macaddress: iface.macaddress,
    mtu: iface.mtu,
    type: iface.type,
  };
  if (family === 4) return iface.ipv4 ? { ...iface.ipv4, ...common } : {};
  const v6 = iface.ipv6?.find((a) => a.scope === 'global');
  if (!v6) return {};
  const { alias: _alias, ...rest } = common;
  return { ...v6, ...rest };
}
