import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressOf, failures, HOSTS, inventoryWithGroups, onHost, orch, resetHost, results, ROOT, writePlaybook } from '../helpers/lab.js';

const [lb, web1, web2] = HOSTS as [string, string, string];

/** The lab inventory with lb = host 1 and two web servers. */
const stackInventory = () => inventoryWithGroups({ lb: [lb], web: [web1, web2] });

/** A tiny HTTP server on a web host standing in for Varnish: answers /health and counts requests. */
function startBackend(host: string): void {
  onHost(host, "pkill -f 'http[.]server 6081'; true"); // separate: this command line must not match itself
  onHost(host, "mkdir -p /srv/fake && cd /srv/fake && echo ok > health && echo " + host + " > index.html && (nohup python3 -m http.server 6081 > /srv/fake/access.log 2>&1 &)");
}

function hits(host: string): number {
  return Number(onHost(host, "grep -c 'GET / ' /srv/fake/access.log || true").stdout.trim());
}

function curlMany(n: number): string[] {
  const out = onHost(lb, `for i in $(seq ${n}); do curl -s -m 2 http://127.0.0.1/ || echo FAIL; done`).stdout;
  return out.split('\n').filter((l) => l);
}

test('haproxy: config from the web group, validated, running, converges; drain and re-enable through the admin socket', () => {
  resetHost(lb, web1, web2);
  startBackend(web1);
  startBackend(web2);
  const inv = stackInventory();
  const pb = writePlaybook(`- hosts: lb\n  become: yes\n  roles: [haproxy]\n`);
  const first = orch(['run', inv, pb], { cwd: ROOT });
  assert.equal(first.code, 0, failures(first));
  const second = orch(['run', inv, pb], { cwd: ROOT });
  assert.deepEqual(results(second).filter((r) => r.status === 'changed').map((r) => r.task), []);
  const cfg = onHost(lb, 'cat /etc/haproxy/haproxy.cfg').stdout;
  assert.match(cfg, new RegExp(`server ${web1} ${addressOf(web1).replace(/\./g, '\\.')}:6081 check`));
  assert.equal(onHost(lb, 'haproxy -c -q -f /etc/haproxy/haproxy.cfg && echo valid').stdout.trim(), 'valid');
  onHost(lb, 'sleep 3'); // health checks mark both servers up
  const answers = curlMany(10);
  assert.deepEqual([...new Set(answers)].sort(), [web1, web2].sort(), 'round robin over both servers');

  const drain = (state: string) =>
    orch(['run', inv, writePlaybook(`- hosts: lb\n  become: yes\n  gather_facts: no\n  tasks:\n    - haproxy: state=${state} backend=web host=${web1} wait=yes\n`)], { cwd: ROOT });
  const d = drain('disabled');
  assert.equal(d.code, 0, failures(d));
  const before = hits(web1);
  const during = curlMany(10);
  assert.equal(hits(web1), before, `no request reached ${web1} while it was disabled`);
  assert.deepEqual([...new Set(during)], [web2]);
  assert.equal(drain('disabled').events.filter((e) => e.type === 'host_result' && e.status === 'changed').length, 0, 'idempotent');
  const en = drain('enabled');
  assert.equal(en.code, 0, failures(en));
  onHost(lb, 'sleep 1');
  curlMany(6);
  assert.ok(hits(web1) > before, `${web1} gets traffic again`);
});

test('haproxy: a config that haproxy -c rejects is never installed', () => {
  const inv = stackInventory();
  const good = onHost(lb, 'md5sum /etc/haproxy/haproxy.cfg').stdout;
  const bad = orch(['run', inv, writePlaybook(`- hosts: lb\n  become: yes\n  roles: [haproxy]\n`), '-e', 'haproxy_timeout_client=nonsense'], { cwd: ROOT });
  assert.equal(bad.code, 2);
  assert.match(results(bad).find((x) => x.status === 'failed')?.msg ?? '', /failed to validate/);
  assert.equal(onHost(lb, 'md5sum /etc/haproxy/haproxy.cfg').stdout, good);
});
