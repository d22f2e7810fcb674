import type { Params } from './spec.js';

// ansible.builtin.iptables (2.14) construct_rule: the rule's arguments built with the same flags in the same order.

const ICMP: Record<string, string> = { ipv4: '--icmp-type', ipv6: '--icmpv6-type' };

export const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function param(rule: string[], value: unknown, flag: string): void {
  const v = str(value);
  if (v === undefined) return;
  if (v.startsWith('!')) rule.push('!', flag, v.slice(1));
  else rule.push(flag, v);
}

function matchFlag(rule: string[], value: unknown, flag: string, negatable: boolean): void {
  if (value === 'match') rule.push(flag);
  else if (negatable && value === 'negate') rule.push('!', flag);
}

function csv(rule: string[], value: string[], flag: string): void {
  if (value.length > 0) rule.push(flag, value.join(','));
}

function match(rule: string[], value: unknown, name: string): void {
  if (Array.isArray(value) ? value.length > 0 : !!value) rule.push('-m', name);
}

/** construct_rule: the rule's arguments, in Ansible's order. */
export function constructRule(p: Params): string[] {
  const rule: string[] = [];
  const matches = list(p.match);
  const ctstate = list(p.ctstate);
  const dports = list(p.destination_ports);
  if (str(p.wait)) rule.push('-w', String(p.wait));
  param(rule, p.protocol, '-p');
  param(rule, p.source, '-s');
  param(rule, p.destination, '-d');
  for (const m of matches) param(rule, m, '-m');
  const tcp = p.tcp_flags as { flags?: unknown; flags_set?: unknown } | undefined;
  if (tcp && tcp.flags !== undefined && tcp.flags !== null && tcp.flags_set !== undefined && tcp.flags_set !== null)
    rule.push('--tcp-flags', list(tcp.flags).join(','), list(tcp.flags_set).join(','));
  param(rule, p.jump, '-j');
  if (str(p.jump)?.toLowerCase() === 'tee') param(rule, p.gateway, '--gateway');
  param(rule, p.log_prefix, '--log-prefix');
  param(rule, p.log_level, '--log-level');
  param(rule, p.to_destination, '--to-destination');
  match(rule, dports, 'multiport');
  csv(rule, dports, '--dports');
  param(rule, p.to_source, '--to-source');
  param(rule, p.goto, '-g');
  param(rule, p.in_interface, '-i');
  param(rule, p.out_interface, '-o');
  param(rule, p.fragment, '-f');
  param(rule, p.set_counters, '-c');
  param(rule, p.source_port, '--source-port');
  param(rule, p.destination_port, '--destination-port');
  param(rule, p.to_ports, '--to-ports');
  param(rule, p.set_dscp_mark, '--set-dscp');
  param(rule, p.set_dscp_mark_class, '--set-dscp-class');
  matchFlag(rule, p.syn, '--syn', true);
  if (matches.includes('conntrack')) csv(rule, ctstate, '--ctstate');
  else if (matches.includes('state')) csv(rule, ctstate, '--state');
  else if (ctstate.length > 0) {
    match(rule, ctstate, 'conntrack');
    csv(rule, ctstate, '--ctstate');
  }
  if (!matches.includes('iprange') && (p.src_range || p.dst_range)) match(rule, true, 'iprange');
  if (matches.includes('iprange') || p.src_range || p.dst_range) {
    param(rule, p.src_range, '--src-range');
    param(rule, p.dst_range, '--dst-range');
  }
  if (matches.includes('set') || p.match_set) {
    if (!matches.includes('set')) match(rule, p.match_set, 'set');
    param(rule, p.match_set, '--match-set');
    if (str(p.match_set_flags)) rule.push(String(p.match_set_flags));
  }
  match(rule, p.limit || p.limit_burst, 'limit');
  param(rule, p.limit, '--limit');
  param(rule, p.limit_burst, '--limit-burst');
  for (const [key, flag] of [
    ['uid_owner', '--uid-owner'],
    ['gid_owner', '--gid-owner'],
  ] as const) {
    match(rule, p[key], 'owner');
    matchFlag(rule, p[key], flag, true);
    param(rule, p[key], flag);
  }
  if ((p.jump === undefined || p.jump === null) && p.reject_with) rule.push('-j', 'REJECT');
  param(rule, p.reject_with, '--reject-with');
  param(rule, p.icmp_type, ICMP[String(p.ip_version)] ?? '--icmp-type');
  match(rule, p.comment, 'comment');
  param(rule, p.comment, '--comment');
  return rule;
}
