import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { addressOf, apply, applyTwiceConverges, failures, HOSTS, inventoryWithGroups, onHost, orch, resetHost, results, rolePlaybook, ROOT } from '../helpers/lab.js';
import { spawnSync } from 'node:child_process';

const host = HOSTS[2] as string;

function play(roles: string[]): string {
  return rolePlaybook(host, roles.map((r) => join(ROOT, 'roles', r)));
}

test('kernel-tuning: one sysctl.d file, live values where writable, global keys untouched, limits; converges', () => {
  resetHost(host);
  const controlSwappiness = readFileSync('/proc/sys/vm/swappiness', 'utf8');
  const { first } = applyTwiceConverges(play(['kernel-tuning']));
  assert.equal(onHost(host, 'sysctl -n net.core.somaxconn').stdout.trim(), '65535');
  assert.equal(onHost(host, 'sysctl -n net.ipv4.ip_local_port_range').stdout.trim().replace(/\s+/g, ' '), '10000 61000');
  assert.equal(onHost(host, 'sysctl -n net.ipv4.tcp_tw_reuse').stdout.trim(), '1');
  const conf = onHost(host, 'cat /etc/sysctl.d/60-orch-kernel-tuning.conf').stdout;
  assert.match(conf, /^vm\.swappiness = 10$/m);
  assert.match(conf, /^vm\.vfs_cache_pressure = 50$/m);
  assert.match(conf, /^net\.ipv4\.tcp_tw_reuse = 1$/m);
  assert.doesNotMatch(conf, /tw_recycle/);
  const fileMax = Number(/^fs\.file-max = (\d+)$/m.exec(conf)?.[1]);
  assert.ok(fileMax >= Math.min(Number(readFileSync('/proc/sys/fs/file-max', 'utf8')), 2097152) && fileMax >= 2097152, 'file-max raised only');
  assert.equal(readFileSync('/proc/sys/vm/swappiness', 'utf8'), controlSwappiness, 'the control machine is untouched');
  assert.match(results(first).find((r) => r.task.startsWith('Report keys'))?.msg ?? '', /vm\.swappiness/);
  assert.match(onHost(host, 'cat /etc/security/limits.d/60-orch-nofile.conf').stdout, /^www-data soft nofile 256000$/m);
});

test('kernel-tuning: inventory vars override; tcp_tw_recycle refused with a clear message', () => {
  const pb = play(['kernel-tuning']);
  const r = apply(pb, ['-e', '{"kernel_tuning_extra_sysctls": {"net.core.somaxconn": 2048}, "kernel_tuning_redis": true}']);
  assert.equal(r.code, 0);
  assert.equal(onHost(host, 'sysctl -n net.core.somaxconn').stdout.trim(), '65535', 'raise-only keeps the higher live value');
  const low = apply(pb, ['-e', '{"kernel_tuning_extra_sysctls": {"net.core.somaxconn": 2048}, "kernel_tuning_raise_only": []}']);
  assert.equal(low.code, 0);
  assert.equal(onHost(host, 'sysctl -n net.core.somaxconn').stdout.trim(), '2048');
  assert.match(onHost(host, 'cat /etc/sysctl.d/60-orch-kernel-tuning.conf').stdout, /^net\.core\.somaxconn = 2048$/m);
  const bad = apply(pb, ['-e', '{"kernel_tuning_extra_sysctls": {"net.ipv4.tcp_tw_recycle": 1}}']);
  assert.equal(bad.code, 2);
  assert.match(results(bad).find((x) => x.status === 'failed')?.msg ?? '', /tcp_tw_recycle must not be set: it broke clients behind NAT/);
  // `orch lab reset` gives the host a new network namespace: the live net.* values go back to a fresh one's,
  // and eth0 keeps its MAC (else the control machine's ARP entry points nowhere for ~30 s).
  const macBefore = onHost(host, 'cat /sys/class/net/eth0/address').stdout.trim();
  resetHost(host);
  assert.equal(onHost(host, 'cat /sys/class/net/eth0/address').stdout.trim(), macBefore);
  const freshDefault = spawnSync('unshare', ['--net', 'sysctl', '-n', 'net.core.somaxconn'], { encoding: 'utf8' }).stdout.trim();
  assert.notEqual(freshDefault, '2048');
  assert.equal(onHost(host, 'sysctl -n net.core.somaxconn').stdout.trim(), freshDefault);
});

test('tmpfs-tmp: tmpfs on /tmp sized from memory, in fstab; existing files stay visible; noatime on /', () => {
  resetHost(host);
  onHost(host, "printf 'UUID=abc / ext4 errors=remount-ro 0 1\\n' >> /etc/fstab; echo keep-me > /tmp/orch-existing");
  applyTwiceConverges(play(['tmpfs-tmp']));
  const mnt = onHost(host, 'findmnt -n -o FSTYPE,OPTIONS /tmp').stdout;
  assert.match(mnt, /^tmpfs .*nosuid.*nodev.*noatime/);
  assert.match(mnt, /size=4194304k/, '24 GiB machine: a quarter of RAM capped at 4 GiB');
  assert.match(onHost(host, 'cat /etc/fstab').stdout, /^tmpfs \/tmp tmpfs defaults,nosuid,nodev,noatime,mode=1777,size=4096m 0 0$/m);
  assert.match(onHost(host, 'cat /etc/fstab').stdout, /^UUID=abc \/ ext4 errors=remount-ro,noatime 0 1$/m);
  assert.equal(onHost(host, 'cat /tmp/orch-existing').stdout, 'keep-me\n');
  const sized = apply(play(['tmpfs-tmp']), ['-e', 'tmpfs_tmp_size=64m']);
  assert.equal(sized.code, 0, failures(sized));
  assert.match(onHost(host, 'findmnt -n -o OPTIONS /tmp').stdout, /size=65536k/);
});

test('ssh-hardening: settings live after a reload (same sshd pid), root login refused, fresh login proven', () => {
  resetHost(host);
  const key = readFileSync(join(process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab', 'id_ed25519.pub'), 'utf8');
  onHost(host, `mkdir -p /root/.ssh && printf '%s' '${key.trim()}' > /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys`);
  const rootLogin = () =>
    spawnSync('ssh', ['-i', join(process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab', 'id_ed25519'), '-o', `UserKnownHostsFile=${join(process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab', 'known_hosts')}`, '-o', 'BatchMode=yes', `root@${addressOf(host)}`, 'true'], { encoding: 'utf8' }).status;
  assert.equal(rootLogin(), 0, 'root can log in before hardening');
  const pid = onHost(host, 'cat /run/sshd.pid').stdout.trim();
  applyTwiceConverges(play(['ssh-hardening']));
  const t = onHost(host, '/usr/sbin/sshd -T').stdout;
  assert.match(t, /^permitrootlogin no$/m);
  assert.match(t, /^passwordauthentication no$/m);
  assert.notEqual(rootLogin(), 0, 'root login refused');
  assert.equal(onHost(host, 'cat /run/sshd.pid').stdout.trim(), pid, 'reloaded, not restarted');
});

test('ssh-hardening: a config sshd rejects is rolled back and the task fails; logins still work', () => {
  resetHost(host);
  const r = apply(play(['ssh-hardening']), ['-e', '{"ssh_hardening_settings": {"PermitRootLogin": "no", "NoSuchKeyword": "yes"}}']);
  assert.equal(r.code, 2);
  assert.match(results(r).find((x) => x.status === 'failed' && x.task === 'Stop here')?.msg ?? '', /rolled back/);
  assert.equal(onHost(host, 'test -e /etc/ssh/sshd_config.d/10-orch-hardening.conf && echo present || echo absent').stdout.trim(), 'absent');
  assert.equal(onHost(host, '/usr/sbin/sshd -t && echo valid').stdout.trim(), 'valid');
});

test('site.yml in check mode on a fresh host changes nothing', () => {
  resetHost(host);
  const r = orch(['run', inventoryWithGroups({ lb: [HOSTS[0] as string], web: [HOSTS[1] as string], db: [host] }), join(ROOT, 'playbooks', 'site.yml'), '--check', '--limit', host]);
  const recapEvent = r.events.find((e) => e.type === 'recap');
  const recap = recapEvent?.type === 'recap' ? recapEvent.stats : {};
  assert.equal(r.code, 0, r.stdout.slice(-2000));
  assert.ok(Object.values(recap).some((s) => s.changed > 0), 'check mode reports the changes it would make');
  assert.equal(onHost(host, 'ls /etc/sysctl.d/60-orch-kernel-tuning.conf /etc/ssh/sshd_config.d/10-orch-hardening.conf 2>/dev/null | wc -l').stdout.trim(), '0');
  assert.equal(onHost(host, 'findmnt -n -o FSTYPE /tmp || echo none').stdout.trim(), 'none');
});
