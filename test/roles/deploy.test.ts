import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { failures, HOSTS, inventoryWithGroups, onHost, orch, resetHost, results, ROOT, startClientLoop, waitClientLoop } from '../helpers/lab.js';

const [lb, web1, web2] = HOSTS as [string, string, string];

/** lb = host 1; web = hosts 2 and 3; db = host 3. `extra` adds host lines (host vars for one run). */
const inventory = (extra = '') => inventoryWithGroups({ lb: [lb], web: [web1, web2], db: [web2] }, extra);
const startLoad = (n: number, file: string) => startClientLoop(lb, 'http://127.0.0.1/', n, file, 'body');
const waitLoad = (file: string) => waitClientLoop(lb, file);

const release = (host: string) => onHost(host, 'cat /srv/shop/current/RELEASE').stdout.trim();

test('deploy: zero failed requests during a rolling deploy; every answer is from the old or the new release', () => {
  resetHost(lb, web1, web2);
  const inv = inventory();
  const site = orch(['run', inv, join(ROOT, 'playbooks', 'site.yml')]);
  assert.equal(site.code, 0, failures(site));
  startLoad(400, '/tmp/orch-deploy-load');
  const d = orch(['deploy', inv]);
  assert.equal(d.code, 0, failures(d));
  const answers = waitLoad('/tmp/orch-deploy-load');
  const rel = release(web1);
  assert.match(rel, /^\d{14}-[0-9a-f]{7}$/);
  assert.equal(release(web2), rel, 'both web hosts on the new release');
  assert.ok(!answers.includes('FAILED'), `${answers.filter((a) => a === 'FAILED').length} failed requests`);
  const kinds = new Set(answers.map((a) => /release (\S+),/.exec(a)?.[1] ?? a));
  assert.ok([...kinds].every((k) => k === 'initial' || k === rel), `only old or new release answered: ${[...kinds].join(' | ')}`);
  const batches = d.events.filter((e) => e.type === 'batch_start').length;
  assert.equal(batches, 2, 'one host per batch');
  assert.equal(onHost(lb, `echo "show stat" | perl -MIO::Socket::UNIX -e '$s=IO::Socket::UNIX->new(Peer=>"/run/haproxy/admin.sock"); print $s "show stat\\n"; print while <$s>' | grep -c '^web,orcht[0-9]*,.*,UP,'`).stdout.trim(), '2', 'both servers enabled');
});

test('deploy failure: the second host fails its health check; it is switched back, the first keeps the new release, all enabled, lock released', () => {
  const before = release(web2);
  const bad = inventory(`${web2} app_http=127.0.0.1:8999`); // its health URL will not answer
  const d = orch(['deploy', bad, '-e', 'deploy_health_retries=3']);
  assert.equal(d.code, 2);
  const newRel = release(web1);
  assert.notEqual(newRel, before, `${web1} is on the new release`);
  assert.equal(release(web2), before, `${web2} went back to ${before}`);
  assert.match(results(d).find((r) => r.task === 'Stop the rollout here')?.msg ?? '', /did not become healthy .* it is back on/);
  assert.equal(results(d).filter((r) => r.task === 'Re-enable in HAProxy (also when the batch failed)').length, 2);
  assert.equal(orch(['lock', 'status', 'hosts'], { json: false }).stdout.trim(), 'hosts: not locked');
  assert.equal(onHost(lb, 'curl -s -m 3 -o /dev/null -w "%{http_code}" http://127.0.0.1/').stdout, '200');
});

test('rollback: back to the previous release everywhere; an unknown target is a clear error', () => {
  const inv = inventory();
  const current = release(web1);
  const r = orch(['rollback', inv]);
  assert.equal(r.code, 0, failures(r));
  assert.notEqual(release(web1), current);
  const missing = orch(['rollback', inv, '--to', 'no-such-release']);
  assert.equal(missing.code, 2);
  assert.match(results(missing).find((x) => x.status === 'failed')?.msg ?? '', /release no-such-release is not on .*; it has: /);
  assert.equal(onHost(lb, 'curl -s -m 3 http://127.0.0.1/health').code, 0);
});
