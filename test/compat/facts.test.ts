import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { failures, HOSTS, onHost, orch, oneHostInventory } from '../helpers/lab.js';

// Facts compared with Ansible's own setup module on the same lab host: both write `ansible_facts` as JSON
// onto the host from the same playbook, and the test reads both files over plain ssh.
const host = HOSTS[0] as string;

function inventory(): string {
  return oneHostInventory(host, 'facts');
}

function playbook(dest: string, extra = ''): string {
  const file = join(mkdtempSync(join(tmpdir(), 'orch-facts-pb-')), 'facts.yml');
  writeFileSync(
    file,
    `- hosts: facts\n${extra}  tasks:\n    - copy: { content: "{{ ansible_facts | to_json }}", dest: ${dest} }\n`,
  );
  return file;
}

/** JSON with sorted keys: key order is not a difference. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
}

const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;

type Facts = Record<string, unknown>;
const readFacts = (path: string): Facts => JSON.parse(onHost(host, `cat ${path}`).stdout) as Facts;
const pick = (f: Facts, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Facts)[k] : undefined), f);

/** The facts orch and ansible-playbook gather on the host with the same play (`extra`: play keywords). */
function bothFacts(name: string, extra = ''): [Facts, Facts] {
  const inv = inventory();
  const r = orch(['run', inv, playbook(`/tmp/orch-${name}.json`, extra)]);
  assert.equal(r.code, 0, failures(r));
  const a = spawnSync('ansible-playbook', ['-i', inv, playbook(`/tmp/ansible-${name}.json`, extra)], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_HOST_KEY_CHECKING: 'True' },
  });
  assert.equal(a.status, 0, a.stdout + a.stderr);
  return [readFacts(`/tmp/orch-${name}.json`), readFacts(`/tmp/ansible-${name}.json`)];
}

test(
  "facts: orch gathers what Ansible's setup module reports on the same host (distribution, memory, network, user, mounts, local facts)",
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    onHost(
      host,
      `mkdir -p /etc/ansible/facts.d && printf '{"release": "r42"}\\n' > /etc/ansible/facts.d/app.fact && printf '[db]\\nhost = db1\\n' > /etc/ansible/facts.d/site.fact && printf '#!/bin/sh\\necho "{\\\\"n\\\\": 3}"\\n' > /etc/ansible/facts.d/gen.fact && chmod 755 /etc/ansible/facts.d/gen.fact`,
    );
    const [o, an] = bothFacts('facts');
    const same = [
      'distribution',
      'distribution_version',
      'distribution_major_version',
      'distribution_minor_version',
      'distribution_release',
      'os_family',
      'pkg_mgr',
      'service_mgr',
      'lsb',
      'system',
      'kernel',
      'kernel_version',
      'architecture',
      'machine',
      'userspace_bits',
      'hostname',
      'nodename',
      'machine_id',
      'memtotal_mb',
      'swaptotal_mb',
      'memory_mb.real.total',
      'memory_mb.swap.total',
      'processor_count',
      'processor_cores',
      'processor_vcpus',
      'processor_nproc',
      'processor_threads_per_core',
      'processor',
      'user_id',
      'user_uid',
      'user_gid',
      'user_dir',
      'user_shell',
      'user_gecos',
      'effective_user_id',
      'real_group_id',
      'eth0.ipv4',
      'eth0.macaddress',
      'eth0.mtu',
      'eth0.active',
      'eth0.type',
      'lo.ipv4',
      'lo.type',
      'default_ipv4',
      'all_ipv4_addresses',
      'dns',
      'ansible_local',
      'date_time.tz',
      'date_time.tz_offset',
      'date_time.date',
      'date_time.weekday',
      'date_time.weeknumber',
      'date_time.weekday_number',
      'virtualization_type',
      'virtualization_role',
      'env.HOME',
      'env.USER',
      'python.executable',
      'ssh_host_key_ed25519_public',
      'selinux',
      'apparmor',
      'fips',
      'system_vendor',
      'product_name',
      'cmdline',
      'gather_subset',
      'module_setup',
    ];
    const diffs = same
      .filter((k) => canonical(pick(o, k)) !== canonical(pick(an, k)))
      .map((k) => `${k}: orch ${JSON.stringify(pick(o, k))} ansible ${JSON.stringify(pick(an, k))}`);
    assert.deepEqual(diffs, []);
    assert.deepEqual([...(o.interfaces as string[])].sort(), [...(an.interfaces as string[])].sort());
    const mounts = (f: Facts) =>
      (f.mounts as { mount: string; fstype: string }[]).map((m) => `${m.mount} ${m.fstype}`).sort();
    assert.deepEqual(mounts(o), mounts(an));
    assert.deepEqual(
      pick(o, 'ansible_local'),
      { app: { release: 'r42' }, site: { db: { host: 'db1' } }, gen: { n: 3 } },
      'custom facts from fact_path read as Ansible does',
    );
    assert.equal(pick(o, 'service_mgr'), 'sysvinit', 'an init.d lab host looks like one');
  },
);

test('facts: gather_subset "!all" gathers only the min set; fact_path is honoured', () => {
  onHost(host, `mkdir -p /srv/facts && printf '{"x": 1}\\n' > /srv/facts/mine.fact`);
  const r = orch([
    'run',
    inventory(),
    playbook('/tmp/orch-min-facts.json', '  gather_subset: ["!all"]\n  fact_path: /srv/facts\n'),
  ]);
  assert.equal(r.code, 0, failures(r));
  const f = readFacts('/tmp/orch-min-facts.json');
  assert.equal(f.distribution, 'Debian');
  assert.equal(f.memtotal_mb, undefined, 'hardware facts not gathered');
  assert.equal(f.interfaces, undefined, 'network facts not gathered');
  assert.deepEqual(f.ansible_local, { mine: { x: 1 } });
});

test("facts: a bad gather_subset fails the host with Ansible's message", () => {
  const r = orch(['run', inventory(), playbook('/tmp/never.json', '  gather_subset: [hardwre]\n')]);
  assert.equal(r.code, 2);
  assert.match(failures(r), /Bad subset 'hardwre' given to Ansible/);
});

test(
  "facts: under the play's become: yes they are gathered as root, as Ansible's setup (user_id, user_dir, env)",
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const [o, an] = bothFacts('become-facts', '  become: yes\n');
    const keys = [
      'user_id',
      'user_uid',
      'user_gid',
      'user_dir',
      'user_shell',
      'effective_user_id',
      'env.HOME',
      'env.USER',
    ];
    assert.deepEqual(
      keys.map((k) => `${k}=${JSON.stringify(pick(o, k))}`),
      keys.map((k) => `${k}=${JSON.stringify(pick(an, k))}`),
    );
    assert.equal(pick(o, 'user_id'), 'root');
  },
);
