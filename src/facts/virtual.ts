import { keyValues, type FactSection, type Facts } from './sections.js';

const DMI = '/sys/devices/virtual/dmi/id';

/** Containers first, then hypervisors from DMI, as Ansible's Linux virtual collector decides. */
export const virtualSection: FactSection = {
  name: 'virtual',
  subset: 'virtual',
  script: [
    'grep -qE "/(docker|ecs)/" /proc/1/cgroup 2>/dev/null && echo cgroup=docker',
    'grep -qE "/lxc/|machine-lxc" /proc/1/cgroup 2>/dev/null && echo cgroup=lxc',
    'tr "\\0" "\\n" < /proc/1/environ 2>/dev/null | sed -n "s/^container=/container=/p"',
    '{ [ -e /.dockerenv ] || [ -e /.dockerinit ]; } && echo dockerenv=1',
    '[ -e /run/.containerenv ] && echo podmanenv=1',
    '[ -d /proc/vz ] && [ ! -d /proc/bc ] && echo openvz=1',
    // written by systemd when it runs as a container's PID 1 (readable without root, unlike /proc/1/environ)
    '[ -s /run/systemd/container ] && echo "systemd_container=$(head -n1 /run/systemd/container)"',
    `for f in product_name sys_vendor bios_vendor; do [ -r ${DMI}/$f ] && echo "dmi_$f=$(cat ${DMI}/$f)"; done`,
    'grep -q "QEMU Virtual CPU" /proc/cpuinfo 2>/dev/null && echo qemu_cpu=1',
  ].join('; '),
  perl: String.raw`
my $cg = $fread->("/proc/1/cgroup") // "";
print "cgroup=docker\n" if $cg =~ m{/(docker|ecs)/}; print "cgroup=lxc\n" if $cg =~ m{/lxc/|machine-lxc};
for (split /\0/, $fread->("/proc/1/environ") // "") { print "$_\n" if /^container=/; }
print "dockerenv=1\n" if -e "/.dockerenv" || -e "/.dockerinit"; print "podmanenv=1\n" if -e "/run/.containerenv";
print "openvz=1\n" if -d "/proc/vz" && !-d "/proc/bc";
print "systemd_container=", $fhead->("/run/systemd/container"), "\n" if -s "/run/systemd/container";
for (qw(product_name sys_vendor bios_vendor)) { my $p = "${DMI}/$_"; print "dmi_$_=", $fcat->($p), "\n" if -r $p; }
print "qemu_cpu=1\n" if ($fread->("/proc/cpuinfo") // "") =~ /QEMU Virtual CPU/;`,
  parse: parseVirtual,
};

function dmiType(product: string, sysVendor: string, biosVendor: string): string | undefined {
  if (/^(KVM|KVM Server|Bochs|AHV)$/.test(product)) return 'kvm';
  if (product.startsWith('VMware')) return 'VMware';
  if (product === 'VirtualBox' || biosVendor === 'innotek GmbH') return 'virtualbox';
  if (/^OpenStack (Compute|Nova)$/.test(product) || sysVendor === 'OpenStack Foundation') return 'openstack';
  if (product === 'HVM domU' || biosVendor === 'Xen') return 'xen';
  if (product === 'RHEV Hypervisor') return 'RHEV';
  if (['QEMU', 'Google', 'Amazon EC2'].includes(sysVendor) || biosVendor === 'Amazon EC2') return 'kvm';
  if (sysVendor === 'Microsoft Corporation') return 'VirtualPC';
  if (sysVendor.startsWith('Parallels')) return 'parallels';
  return undefined;
}

export function parseVirtual(out: string): Facts {
  const kv = keyValues(out);
  const container = kv.get('container');
  const type =
    kv.get('cgroup') ??
    (container === 'lxc' || container === 'podman' ? container : container ? 'container' : undefined) ??
    (kv.get('openvz') ? 'openvz' : undefined) ??
    (kv.get('systemd_container') || undefined) ??
    (kv.get('dockerenv') ? 'docker' : undefined) ??
    (kv.get('podmanenv') ? 'podman' : undefined) ??
    dmiType(kv.get('dmi_product_name') ?? '', kv.get('dmi_sys_vendor') ?? '', kv.get('dmi_bios_vendor') ?? '') ??
    (kv.get('qemu_cpu') ? 'kvm' : undefined);
  return { virtualization_type: type ?? 'NA', virtualization_role: type ? 'guest' : 'NA' };
}
