import type { FactSubset } from './sections.js';

/**
 * gather_subset's names, as Ansible 2.14's setup knows them: its groups (`all`, `min`, `hardware`, `network`,
 * `virtual`) and each collector's fine-grained names. orch gathers by group: a fine-grained name selects the
 * group whose facts hold it (more facts than Ansible would gather, never fewer), and a negated one excludes
 * nothing.
 */
const FINE_GRAINED: Record<Exclude<FactSubset, 'min'>, readonly string[]> = {
  hardware: ['devices', 'fibre_channel_wwn', 'mounts', 'nvme', 'processor', 'processor_cores', 'processor_count'],
  network: ['all_ipv4_addresses', 'all_ipv6_addresses', 'default_ipv4', 'default_ipv6', 'interfaces'],
  virtual: ['virtualization_role', 'virtualization_tech_guest', 'virtualization_tech_host', 'virtualization_type'],
};
const MIN_NAMES = [
  'apparmor',
  'architecture',
  'caps',
  'chroot',
  'cmdline',
  'date_time',
  'distribution',
  'distribution_major_version',
  'distribution_release',
  'distribution_version',
  'dns',
  'effective_group_ids',
  'effective_user_id',
  'env',
  'facter',
  'fips',
  'is_chroot',
  'iscsi',
  'kernel',
  'kernel_version',
  'loadavg',
  'local',
  'lsb',
  'machine',
  'machine_id',
  'ohai',
  'os_family',
  'pkg_mgr',
  'platform',
  'python',
  'python_version',
  'real_user_id',
  'selinux',
  'service_mgr',
  'ssh_host_key_dsa_public',
  'ssh_host_key_ecdsa_public',
  'ssh_host_key_ed25519_public',
  'ssh_host_key_rsa_public',
  'ssh_host_pub_keys',
  'ssh_pub_keys',
  'system',
  'system_capabilities',
  'system_capabilities_enforced',
  'user',
  'user_dir',
  'user_gecos',
  'user_gid',
  'user_id',
  'user_shell',
  'user_uid',
];

const GROUP_OF = new Map<string, FactSubset>([
  ...MIN_NAMES.map((n) => [n, 'min'] as const),
  ...Object.entries(FINE_GRAINED).flatMap(([group, names]) => names.map((n) => [n, group as FactSubset] as const)),
]);

/** The names Ansible lists in its error (`min` is accepted but not listed), sorted as it prints them. */
const LISTED = ['all', 'hardware', 'network', 'virtual', ...GROUP_OF.keys()].sort();

/** The first name of a gather_subset list that Ansible does not know, if any. */
export function badSubset(subset: readonly string[]): string | undefined {
  return subset.find((s) => {
    const name = s.trim().replace(/^!/, '');
    return name !== 'min' && !LISTED.includes(name);
  });
}

/** Ansible's words for a name it does not know. */
export function badSubsetMessage(name: string): string {
  return `Bad subset '${name}' given to Ansible. gather_subset options allowed: ${LISTED.join(', ')}`;
}

/** A gather_subset list in orch's groups: fine-grained names become their group; negated ones are dropped. */
export function asGroups(subset: readonly string[]): string[] {
  return subset.flatMap((s) => {
    const t = s.trim();
    const name = t.replace(/^!/, '');
    const group = GROUP_OF.get(name);
    if (group === undefined) return [t];
    return t.startsWith('!') ? [] : [group];
  });
}
