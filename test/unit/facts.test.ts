import assert from 'node:assert/strict';
import { test } from 'node:test';
import { factSections, factsScript, factVariables, parseFacts, selectSubsets } from '../../src/facts/gather.js';
import { parseHardware } from '../../src/facts/hardware.js';
import { parseLocal } from '../../src/facts/local.js';
import { parseNetwork } from '../../src/facts/network.js';
import { parsePlatform, serviceManager } from '../../src/facts/platform.js';
import { dateTimeSection, envSection, userSection } from '../../src/facts/session.js';
import { parseVirtual } from '../../src/facts/virtual.js';
import { badSubset, badSubsetMessage } from '../../src/facts/subsets.js';

// Recorded outputs of each fact section (Debian 12) → the facts Ansible 2.14's setup module reports.

test('facts platform: distribution from os-release and debian_version, lsb, pkg_mgr, dns', () => {
  const f = parsePlatform(
    'hostname=web1\nfqdn=web1.example.com\nos_PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nos_NAME="Debian GNU/Linux"\nos_VERSION_ID="12"\nos_VERSION_CODENAME=bookworm\nos_ID=debian\ndebian_version=12.11\nlsb_release=1\n' +
      'pid1=systemd\ndns_nameserver=10.0.0.2\ndns_search=example.com corp\ndns_options=ndots:2 rotate\nloadavg=0.10 0.20 0.30\ncmdline=BOOT_IMAGE=/vmlinuz ro quiet\nhostkey=ssh-ed25519 AAAAC3Nz\n',
  );
  assert.equal(f.distribution, 'Debian');
  assert.equal(f.distribution_version, '12.11');
  assert.equal(f.distribution_major_version, '12');
  assert.equal(f.distribution_minor_version, '11');
  assert.equal(f.distribution_release, 'bookworm');
  assert.equal(f.os_family, 'Debian');
  assert.equal(f.pkg_mgr, 'apt');
  assert.equal(f.domain, 'example.com');
  assert.deepEqual(f.lsb, {
    codename: 'bookworm',
    description: 'Debian GNU/Linux 12 (bookworm)',
    id: 'Debian',
    major_release: '12',
    release: '12',
  });
  assert.deepEqual(f.dns, {
    nameservers: ['10.0.0.2'],
    search: ['example.com', 'corp'],
    options: { ndots: '2', rotate: true },
  });
  assert.deepEqual(f.loadavg, { '1m': 0.1, '5m': 0.2, '15m': 0.3 });
  assert.deepEqual(f.cmdline, { BOOT_IMAGE: '/vmlinuz', ro: true, quiet: true });
  assert.equal(f.ssh_host_key_ed25519_public, 'AAAAC3Nz');
  assert.equal(f.ssh_host_key_ed25519_public_keytype, 'ssh-ed25519');
});

test('facts service_mgr decided as Ansible: PID 1 unless init or a shell, then the files', () => {
  const kv = (s: string) =>
    new Map(
      s
        .split(' ')
        .filter(Boolean)
        .map((p) => p.split('=') as [string, string]),
    );
  assert.equal(serviceManager(kv('pid1=systemd')), 'systemd');
  assert.equal(serviceManager(kv('pid1=bash systemctl=1 systemd_running=1')), 'systemd');
  // a container whose PID 1 is a shell and whose /sbin/init still names systemd: "systemd, offline"
  assert.equal(serviceManager(kv('pid1=sh systemctl=1 sbin_init=/usr/lib/systemd/systemd initd=1')), 'systemd');
  assert.equal(serviceManager(kv('pid1=bash systemctl=1 initd=1')), 'sysvinit');
  assert.equal(serviceManager(kv('pid1=init initd=1')), 'sysvinit');
});

test('facts hardware: processors, memory_mb as Ansible computes it, mounts with statvfs sizes', () => {
  const f = parseHardware(
    'nproc=2\nuptime=3066.51\ncpu_processor=0\ncpu_vendor_id=AuthenticAMD\ncpu_model name=AMD EPYC\ncpu_physical id=0\ncpu_siblings=2\ncpu_cpu cores=2\ncpu_processor=1\ncpu_vendor_id=AuthenticAMD\ncpu_model name=AMD EPYC\ncpu_physical id=0\ncpu_siblings=2\ncpu_cpu cores=2\n' +
      'mem_MemTotal=24684092\nmem_MemFree=24067072\nmem_Buffers=11616\nmem_Cached=351000\nmem_SwapTotal=1048572\nmem_SwapFree=1048572\nmem_SwapCached=0\n' +
      'mount=/dev/vda / ext4 rw,relatime\nmount=/dev/vdb /srv/my\\040data xfs rw\nstatfs=4096 4096 66053021 60188876 20885832 16777216 16358094 /\nuuid=/dev/vdb 1234-abcd\n',
  );
  assert.deepEqual(f.processor, ['0', 'AuthenticAMD', 'AMD EPYC', '1', 'AuthenticAMD', 'AMD EPYC']);
  assert.equal(f.processor_count, 1);
  assert.equal(f.processor_cores, 2);
  assert.equal(f.processor_threads_per_core, 1);
  assert.equal(f.processor_vcpus, 2);
  assert.equal(f.memtotal_mb, 24105);
  assert.deepEqual(f.memory_mb, {
    real: { total: 24105, free: 23503, used: 602 },
    nocache: { free: 23856, used: 249 },
    swap: { total: 1023, free: 1023, used: 0, cached: 0 },
  });
  assert.equal(f.uptime_seconds, 3066);
  const mounts = f.mounts as Record<string, unknown>[];
  assert.deepEqual(mounts[0], {
    device: '/dev/vda',
    fstype: 'ext4',
    mount: '/',
    options: 'rw,relatime',
    uuid: 'N/A',
    block_available: 20885832,
    block_size: 4096,
    block_total: 66053021,
    block_used: 45167189,
    inode_available: 16358094,
    inode_total: 16777216,
    inode_used: 419122,
    size_available: 85548367872,
    size_total: 270553174016,
  });
  assert.equal(mounts[1]?.mount, '/srv/my data', 'octal escapes of /proc/mounts decoded');
  assert.equal(mounts[1]?.uuid, '1234-abcd');
  assert.equal(f.system_vendor, 'NA');
});

test('facts network: per-interface facts, secondaries, default_ipv4 from the default route', () => {
  const f = parseNetwork(
    'link: 1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n' +
      'link: 2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\\    link/ether 02:00:0a:d6:00:0b brd ff:ff:ff:ff:ff:ff link-netnsid 0\n' +
      'link: 3: br-x: <BROADCAST,MULTICAST,PROMISC> mtu 1500 qdisc noop state DOWN\\    link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff\n' +
      'addr: 1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n' +
      'addr: 1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever\n' +
      'addr: 2: eth0    inet 10.214.0.11/22 brd 10.214.3.255 scope global eth0\\       valid_lft forever preferred_lft forever\n' +
      'addr: 2: eth0    inet 10.214.0.99/22 brd 10.214.3.255 scope global secondary eth0\\       valid_lft forever preferred_lft forever\n' +
      'addr: 2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever\n' +
      'route4: default via 10.214.0.1 dev eth0\n',
  );
  assert.deepEqual(f.interfaces, ['lo', 'eth0', 'br-x']);
  assert.deepEqual(f.all_ipv4_addresses, ['10.214.0.11', '10.214.0.99']);
  assert.deepEqual(f.all_ipv6_addresses, ['fe80::1']);
  const eth0 = f.eth0 as Record<string, unknown>;
  assert.deepEqual(eth0.ipv4, {
    address: '10.214.0.11',
    broadcast: '10.214.3.255',
    netmask: '255.255.252.0',
    network: '10.214.0.0',
    prefix: '22',
  });
  assert.equal((eth0.ipv4_secondaries as unknown[]).length, 1);
  assert.equal(eth0.macaddress, '02:00:0a:d6:00:0b');
  assert.equal(eth0.mtu, 1500);
  assert.equal(eth0.active, true);
  assert.equal((f.lo as Record<string, unknown>).type, 'loopback');
  const br = f.br_x as Record<string, unknown>;
  assert.equal(br.device, 'br-x', 'fact name has _ for -, device keeps its name');
  assert.equal(br.promisc, true);
  assert.equal(br.active, false);
  assert.deepEqual(f.default_ipv4, {
    address: '10.214.0.11',
    broadcast: '10.214.3.255',
    netmask: '255.255.252.0',
    network: '10.214.0.0',
    prefix: '22',
    interface: 'eth0',
    alias: 'eth0',
    gateway: '10.214.0.1',
    macaddress: '02:00:0a:d6:00:0b',
    mtu: 1500,
    type: 'ether',
  });
  assert.deepEqual(f.default_ipv6, {}, 'no default route: {} as Ansible');
});

test('facts user, date_time and env', () => {
  const u = userSection.parse(
    'user_id=deploy\nuid=1000\ngid=1000\nruid=1000\nrgid=1000\npasswd=deploy:x:1000:1000:Deploy User,,,:/home/deploy:/bin/bash\n',
    {},
  );
  assert.deepEqual(
    [u.user_id, u.user_uid, u.user_gid, u.user_dir, u.user_shell, u.user_gecos],
    ['deploy', 1000, 1000, '/home/deploy', '/bin/bash', 'Deploy User,,,'],
  );
  const d = dateTimeSection.parse(
    'now=2026 11 26 02 24 51 1795656291 592889862 CET +0100 Thursday 4 47 330\nzones=CET +0100 CEST +0200\n',
    {},
  ).date_time as Record<string, string>;
  assert.equal(d.date, '2026-11-26');
  assert.equal(d.iso8601, '2026-11-26T01:24:51Z', 'iso8601 is UTC');
  assert.equal(d.iso8601_micro, '2026-11-26T01:24:51.592889Z');
  assert.equal(d.iso8601_basic, '20261126T022451592889');
  assert.equal(d.tz, 'CET');
  assert.equal(d.tz_dst, 'CEST');
  assert.equal(d.weekday_number, '4');
  const e = envSection.parse('\nHOME=/root\0MULTI=a\nb\0PATH=/usr/bin\0', {}).env as Record<string, string>;
  assert.deepEqual(e, { HOME: '/root', MULTI: 'a\nb', PATH: '/usr/bin' });
});

test('facts local: JSON, INI and executable .fact files; bad content reported, not fatal', () => {
  const f = parseLocal(
    '@@orch-fact-file:app\n{"release": "r1", "n": 2}\n\n@@orch-fact-file:site\n[db]\nHost = db1\nport: 5432\n\n@@orch-fact-file:broken\nnot json or ini\n\n',
  ).ansible_local as Record<string, unknown>;
  assert.deepEqual(f.app, { release: 'r1', n: 2 });
  assert.deepEqual(f.site, { db: { host: 'db1', port: '5432' } });
  assert.match(String(f.broken), /error loading facts as JSON or ini/);
});

test('facts virtual: containers before hypervisors, NA when nothing says', () => {
  assert.deepEqual(parseVirtual('dockerenv=1\n'), { virtualization_type: 'docker', virtualization_role: 'guest' });
  assert.deepEqual(parseVirtual('container=lxc\ndockerenv=1\n'), {
    virtualization_type: 'lxc',
    virtualization_role: 'guest',
  });
  assert.deepEqual(parseVirtual('dmi_product_name=KVM\n'), {
    virtualization_type: 'kvm',
    virtualization_role: 'guest',
  });
  assert.deepEqual(parseVirtual(''), { virtualization_type: 'NA', virtualization_role: 'NA' });
});

test('facts gather_subset: all by default, min always, ! excludes, unknown groups not gathered', () => {
  assert.deepEqual([...selectSubsets()].sort(), ['hardware', 'min', 'network', 'virtual']);
  assert.deepEqual([...selectSubsets(['!all'])], ['min']);
  assert.deepEqual([...selectSubsets(['!all', 'network'])].sort(), ['min', 'network']);
  assert.deepEqual([...selectSubsets(['!hardware'])].sort(), ['min', 'network', 'virtual']);
  assert.deepEqual([...selectSubsets(['min'])], ['min']);
  const names = factSections({ subset: ['!all'] }).map((s) => s.name);
  assert.ok(!names.includes('hardware') && names.includes('platform'));
});

test('facts: one script, sections split by marker, ansible_ names and ansible_facts', () => {
  const sections = factSections({ subset: ['!all'] });
  const script = factsScript(sections);
  assert.ok(script.includes('/etc/ansible/facts.d'));
  const facts = parseFacts(
    '\n@@orch-facts:platform\nhostname=h1\nos_ID=debian\n\n@@orch-facts:user\nuser_id=root\nuid=0\n',
    sections,
    ['!all'],
  );
  assert.equal(facts.hostname, 'h1');
  assert.equal(facts.user_uid, 0);
  assert.deepEqual(facts.gather_subset, ['!all']);
  const vars = factVariables(facts);
  assert.equal(vars.ansible_hostname, 'h1');
  assert.equal((vars.ansible_facts as Record<string, unknown>).user_id, 'root');
  assert.deepEqual(vars.gather_subset, ['!all']);
  assert.equal(
    factSections({ factPath: "/etc/x'; touch /tmp/p; '" })
      .find((s) => s.name === 'local')
      ?.script.includes("'/etc/x'\\''; touch /tmp/p; '\\'''"),
    true,
    'fact_path is quoted',
  );
});

test("gather_subset: Ansible's fine-grained names select the group holding them; an unknown name gets Ansible's message", () => {
  assert.deepEqual([...selectSubsets(['!all', '!min', 'distribution'])].sort(), ['min']);
  assert.deepEqual([...selectSubsets(['!all', 'interfaces'])].sort(), ['min', 'network']);
  assert.deepEqual([...selectSubsets(['all', '!interfaces'])].sort(), ['hardware', 'min', 'network', 'virtual']);
  assert.equal(badSubset(['min', '!distribution', 'default_ipv4', 'virtualization_type']), undefined);
  assert.equal(badSubset(['all', '!bogus']), '!bogus');
  // ansible-playbook 2.14's own words (`ansible localhost -m setup -a gather_subset=bogus`)
  assert.equal(
    badSubsetMessage('bogus'),
    "Bad subset 'bogus' given to Ansible. gather_subset options allowed: all, all_ipv4_addresses, all_ipv6_addresses, apparmor, architecture, caps, chroot, cmdline, date_time, default_ipv4, default_ipv6, devices, distribution, distribution_major_version, distribution_release, distribution_version, dns, effective_group_ids, effective_user_id, env, facter, fibre_channel_wwn, fips, hardware, interfaces, is_chroot, iscsi, kernel, kernel_version, loadavg, local, lsb, machine, machine_id, mounts, network, nvme, ohai, os_family, pkg_mgr, platform, processor, processor_cores, processor_count, python, python_version, real_user_id, selinux, service_mgr, ssh_host_key_dsa_public, ssh_host_key_ecdsa_public, ssh_host_key_ed25519_public, ssh_host_key_rsa_public, ssh_host_pub_keys, ssh_pub_keys, system, system_capabilities, system_capabilities_enforced, user, user_dir, user_gecos, user_gid, user_id, user_shell, user_uid, virtual, virtualization_role, virtualization_tech_guest, virtualization_tech_host, virtualization_type",
  );
});
