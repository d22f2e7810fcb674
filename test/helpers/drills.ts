import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { failures, labName, ORCH, onHost, orch, results, ROOT, type OrchRun } from './lab.js';

/**
 * Drills shared by the plain systemd lab (test/e2e/systemd-lab.test.ts) and the production profile
 * (test/production/).
 */

/** `orch lab ARGS HOST...` on the runner's lab (hosts by their inventory names). */
export function labOn(args: string[], hosts: string[]): void {
  const r = spawnSync(ORCH, ['lab', ...args, ...hosts.map(labName)], {
    encoding: 'utf8',
    env: process.env,
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`orch lab ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
}

/** site.yml twice on `inventory`: the first run works, the second changes nothing. Returns both runs. */
export function siteConverges(inventory: string): { first: OrchRun; second: OrchRun } {
  const site = join(ROOT, 'playbooks', 'site.yml');
  const first = orch(['run', inventory, site]);
  assert.equal(first.code, 0, failures(first));
  const second = orch(['run', inventory, site]);
  assert.equal(second.code, 0, failures(second));
  assert.deepEqual(
    results(second)
      .filter((r) => r.status === 'changed')
      .map((r) => `${r.host}: ${r.task}`),
    [],
  );
  return { first, second };
}

/** The stack's systemd units by host, as site.yml leaves them. */
export function stackUnits(lb: string, webs: string[], db: string): Record<string, string[]> {
  return {
    [lb]: ['haproxy'],
    ...Object.fromEntries(webs.map((w) => [w, ['varnish', 'uwsgi-emperor']])),
    [db]: ['postgresql', 'postgresql@15-main'],
  };
}

/** Every unit (and ssh, cron) active and enabled at boot on its host. */
export function assertUnitsUp(units: Record<string, string[]>, when: string): void {
  for (const [h, list] of Object.entries(units)) {
    const all = ['ssh', 'cron', ...list];
    const r = onHost(
      h,
      `timeout 60 systemctl is-system-running --wait >/dev/null; systemctl is-active ${all.join(' ')}; systemctl is-enabled ${all.filter((u) => u !== 'postgresql@15-main').join(' ')}`,
    );
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(
      lines.slice(0, all.length),
      all.map(() => 'active'),
      `${when} ${h}: ${all.join(' ')} active (${r.stdout}${r.stderr})`,
    );
    assert.ok(
      lines.slice(all.length).every((l) => l === 'enabled' || l === 'alias'),
      `${when} ${h}: enabled at boot (${r.stdout})`,
    );
  }
}

/**
 * Reboot survival: stop and boot every host's systemd; the units come back, /tmp is the tmpfs from
 * fstab, the sysctl.d file is applied, and the stack answers through HAProxy on `lb` again.
 */
export function rebootDrill(units: Record<string, string[]>, lb: string): void {
  const hosts = Object.keys(units);
  labOn(['reboot'], hosts);
  assertUnitsUp(units, 'after a reboot');
  for (const h of hosts) {
    const r = onHost(h, 'findmnt -n -o FSTYPE /tmp; /usr/sbin/sysctl -n net.core.somaxconn');
    assert.deepEqual(
      r.stdout.trim().split('\n'),
      ['tmpfs', '65535'],
      `${h}: /tmp from fstab, sysctl.d applied at boot`,
    );
  }
  // HAProxy's health checks find the web hosts again within a few seconds.
  const code = onHost(
    lb,
    'for i in $(seq 40); do c=$(curl -s -o /dev/null -m 3 -w "%{http_code}" http://127.0.0.1/); [ "$c" = 200 ] && break; sleep 0.5; done; echo $c',
  ).stdout.trim();
  assert.equal(code, '200', 'the stack answers through HAProxy after the reboot');
}
