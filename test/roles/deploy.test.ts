import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { failures, HOSTS, inventoryWithGroups, onHost, orch, orchBackground, resetHost, results, ROOT, startClientLoop, waitClientLoop } from '../helpers/lab.js';
import type { RunEvent } from '../../src/core/events.js';

// The drill layout: lb = host 1; web = hosts 2, 3 and 4 (Varnish + uWSGI + app); db = host 4.
const [lb, web1, web2, web3] = HOSTS as [string, string, string, string];
const webs = [web1, web2, web3];

/** `extra` adds host lines (host vars for one run). */
const inventory = (extra = '') => inventoryWithGroups({ lb: [lb], web: webs, db: [web3] }, extra);
const startLoad = (n: number, file: string) => startClientLoop(lb, 'http://127.0.0.1/', n, file, 'body');
const waitLoad = (file: string) => waitClientLoop(lb, file);

const release = (host: string) => onHost(host, 'cat /srv/shop/current/RELEASE').stdout.trim();
const releasesOf = (events: RunEvent[]) => events.find((e): e is Extract<RunEvent, { type: 'releases' }> => e.type === 'releases')?.releases;

/** HAProxy's view of the web backend, read from its admin socket on the lb host: server → status. */
const SHOW_STAT = `perl -MIO::Socket::UNIX -e '$s=IO::Socket::UNIX->new(Peer=>"/run/haproxy/admin.sock") or die; print $s "show stat\\n"; print while <$s>'`;
function backendStatus(): Record<string, string> {
  const rows = onHost(lb, SHOW_STAT).stdout.split('\n').map((l) => l.split(','));
  return Object.fromEntries(rows.filter((r) => r[0] === 'web' && r[1] !== 'BACKEND' && r[1] !== 'FRONTEND').map((r) => [r[1], r[17]]));
}

/** Every server back in the pool: not in maintenance or drain; and (within 15 s) UP on its health checks. */
function assertAllEnabled(): void {
  let st = backendStatus();
  for (let i = 0; i < 30 && !Object.values(st).every((x) => x === 'UP'); i++) {
    onHost(lb, 'sleep 0.5');
    st = backendStatus();
  }
  assert.equal(Object.keys(st).length, 3);
  assert.deepEqual(Object.entries(st).filter(([, x]) => /MAINT|DRAIN/.test(x ?? '')), [], 'every server enabled');
  assert.deepEqual(Object.values(st), ['UP', 'UP', 'UP'], 'and healthy');
}

/** Samples how many web servers are out of the pool (not UP), every 50 ms, for at most 90 s, on the lb host. */
function startDrainSampler(file: string): void {
  const count = `${SHOW_STAT} | awk -F, '$1=="web" && $2!="BACKEND" && $2!="FRONTEND" && $18 !~ /^UP/ {n++} END {print n+0}'`;
  onHost(lb, `rm -f ${file} ${file}.stop; (i=0; while [ $i -lt 1800 ] && [ ! -e ${file}.stop ]; do ${count} >> ${file}; sleep 0.05; i=$((i+1)); done; echo END >> ${file}) > /dev/null 2>&1 &`);
}
function stopDrainSampler(file: string): number[] {
  onHost(lb, `touch ${file}.stop`);
  return waitClientLoop(lb, file).map(Number);
}

const nObjects = (host: string) => Number(onHost(host, "varnishstat -1 -f MAIN.n_object | awk '{print $2}'").stdout.trim());
const varnishPids = (host: string) => onHost(host, "pgrep -x varnishd | sort -n | tr '\\n' ' '").stdout.trim();

test('deploy: zero failed requests during a rolling deploy over 3 web hosts; every answer is from the old or the new release', () => {
  resetHost(lb, ...webs);
  const inv = inventory();
  const site = orch(['run', inv, join(ROOT, 'playbooks', 'site.yml')]);
  assert.equal(site.code, 0, failures(site));
  startLoad(400, '/tmp/orch-deploy-load');
  const d = orch(['deploy', inv, '-m', 'first release']);
  assert.equal(d.code, 0, failures(d));
  const answers = waitLoad('/tmp/orch-deploy-load');
  const rel = release(web1);
  assert.match(rel, /^\d{14}-[0-9a-f]{7}$/);
  for (const h of webs) assert.equal(release(h), rel, `${h} on the new release`);
  assert.ok(!answers.includes('FAILED'), `${answers.filter((a) => a === 'FAILED').length} failed requests`);
  const kinds = new Set(answers.map((a) => /release (\S+),/.exec(a)?.[1] ?? a));
  assert.ok([...kinds].every((k) => k === 'initial' || k === rel), `only old or new release answered: ${[...kinds].join(' | ')}`);
  assert.equal(d.events.filter((e) => e.type === 'batch_start').length, 3, 'one host per batch');
  assert.deepEqual(releasesOf(d.events), Object.fromEntries(webs.map((h) => [h, rel])), 'the report names each host’s release');
  assertAllEnabled();
  const history = orch(['history', 'deploy'], { json: false }).stdout;
  assert.match(history, new RegExp(`deploy \\S+ HEAD=[0-9a-f]{7} as ${rel}`));
  for (const h of webs) assert.match(history, new RegExp(`${h}: changed, release ${rel}`));
  assert.equal(onHost(web1, 'test -e /var/lib/orch/deploy.lock && echo held || echo free').stdout.trim(), 'free', 'remote lock released');
});

test('restart varnish: rolling reload keeps every cache, at most one host drained at a time, 0 failed requests', () => {
  const inv = inventory();
  for (const h of webs) onHost(h, 'for i in $(seq 20); do curl -s -o /dev/null http://127.0.0.1:6081/?n=$i; done');
  const before = Object.fromEntries(webs.map((h) => [h, nObjects(h)]));
  const pids = Object.fromEntries(webs.map((h) => [h, varnishPids(h)]));
  for (const h of webs) assert.ok((before[h] ?? 0) >= 20, `${h} cache warmed: ${before[h]} objects`);
  startDrainSampler('/tmp/orch-drained');
  startLoad(300, '/tmp/orch-restart-load');
  const r = orch(['restart', inv, 'varnish']);
  const answers = waitLoad('/tmp/orch-restart-load');
  const drained = stopDrainSampler('/tmp/orch-drained');
  assert.equal(r.code, 0, failures(r));
  assert.equal(results(r, "Reload Varnish's VCL (new name, switch, old ones discarded; the cache stays)").filter((x) => x.status === 'changed').length, 3);
  assert.ok(!answers.includes('FAILED'), `${answers.filter((a) => a === 'FAILED').length} failed requests`);
  assert.ok(Math.max(...drained) === 1, `at most one host out of the pool at any time, and the sampler saw one (max ${Math.max(...drained)} over ${drained.length} samples)`);
  for (const h of webs) {
    assert.equal(varnishPids(h), pids[h], `${h}: varnishd not restarted`);
    assert.ok(nObjects(h) >= (before[h] ?? 0), `${h} kept its cache: ${before[h]} → ${nObjects(h)} objects`);
    assert.match(onHost(h, 'curl -s -D - -o /dev/null http://127.0.0.1:6081/?n=1').stdout, /^Age: [1-9]/im, `${h}: a cached page is still a hit`);
  }
  assertAllEnabled();
  assert.match(orch(['history', 'restart'], { json: false }).stdout, new RegExp(`restart \\S+ varnish[^\\n]*\\n(\\s+\\S+: [^\\n]*\\n)*\\s+${web1}: changed`));
});

test('restart --hard needs confirmation: refused without a terminal or --yes, nothing touched', () => {
  const pid = varnishPids(web1);
  const r = orch(['restart', inventory(), 'varnish', '--hard'], { json: false });
  assert.equal(r.code, 5);
  assert.match(r.stderr, /--hard restarts varnish instead of reloading it, which empties the cache .*; confirm with --yes/);
  assert.equal(varnishPids(web1), pid);
});

test('restart app: graceful uWSGI reload host by host, health gate passes, workers replaced', () => {
  const workers = onHost(web2, "pgrep -f '[s]hop uWSGI worker' | sort -n | tr '\\n' ' '").stdout.trim();
  const r = orch(['restart', inventory(), 'app', '--limit', web2]);
  assert.equal(r.code, 0, failures(r));
  assert.equal(results(r, 'Health gate (what HAProxy checks answers 200)')[0]?.status, 'ok');
  onHost(web2, 'sleep 1');
  const after = onHost(web2, "pgrep -f '[s]hop uWSGI worker' | sort -n | tr '\\n' ' '").stdout.trim();
  assert.ok(after !== '' && after.split(' ').every((p) => !workers.split(' ').includes(p)), `new workers: ${workers} → ${after}`);
});

test('deploy failure: the second host fails its health check; it is switched back, the first keeps the new release, the third is untouched, all enabled, locks released', () => {
  const before = release(web2);
  const bad = inventory(`${web2} app_http=127.0.0.1:8999`); // its health URL will not answer
  const d = orch(['deploy', bad, '-e', 'deploy_health_retries=3']);
  assert.equal(d.code, 2);
  const newRel = release(web1);
  assert.notEqual(newRel, before, `${web1} is on the new release`);
  assert.equal(release(web2), before, `${web2} went back to ${before}`);
  assert.equal(release(web3), before, `${web3} was never switched`);
  assert.deepEqual(releasesOf(d.events), { [web1]: newRel, [web2]: before, [web3]: before }, 'the report says which host runs which release');
  assert.equal(results(d).filter((r) => r.host === web3 && r.task.startsWith('Switch current')).length, 0, `${web3} untouched by the rollout`);
  assert.match(onHost(web3, 'curl -s -m 3 http://127.0.0.1:6081/health').stdout, new RegExp(`ok release=${before}`), `${web3} still serving`);
  assert.match(results(d).find((r) => r.task === 'Stop the rollout here')?.msg ?? '', /did not become healthy .* it is back on/);
  assert.equal(results(d).filter((r) => r.task === 'Re-enable in HAProxy (also when the batch failed)').length, 2);
  assertAllEnabled();
  const status = orch(['lock', 'status', bad], { json: false }).stdout;
  assert.match(status, /: not locked\n/);
  for (const h of webs) assert.match(status, new RegExp(`  ${h}: not locked`));
  assert.equal(onHost(lb, 'curl -s -m 3 -o /dev/null -w "%{http_code}" http://127.0.0.1/').stdout, '200');
});

test('concurrency: a second deploy while one runs is refused with the holder’s name; so is a deploy while another machine holds the hosts', async () => {
  const inv = inventory();
  const bg = orchBackground(['deploy', inv, '-m', 'slow one', '-e', 'deploy_drain_retries=30']);
  let out = '';
  bg.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!out.includes('"Drain in HAProxy') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const second = orch(['deploy', inv], { json: false });
  assert.equal(second.code, 6);
  assert.match(second.stderr, /is locked by another run: \S+@\S+ pid \d+ since .*\(deploy /);
  const code = await new Promise<number>((res) => bg.on('exit', (c) => res(c ?? -1)));
  assert.equal(code, 0);
  // Another control machine: its lock file on one web host (as `orch deploy` there would leave it mid-run).
  const current = webs.map(release);
  onHost(web2, `mkdir -p /var/lib/orch && echo '{"user":"alice","host":"laptop","pid":4242,"since":"2026-11-22T10:00:00Z","command":"deploy production","message":"hotfix","token":"t1"}' > /var/lib/orch/deploy.lock`);
  const blocked = orch(['deploy', inv], { json: false });
  assert.equal(blocked.code, 6);
  assert.match(blocked.stderr, new RegExp(`deploy lock on ${web2} \\(/var/lib/orch/deploy.lock\\) is held by alice@laptop since 2026-11-22T10:00:00Z \\(deploy production: hotfix\\)`));
  assert.deepEqual(webs.map(release), current, 'nothing switched');
  for (const h of [web1, web3]) assert.equal(onHost(h, 'test -e /var/lib/orch/deploy.lock && echo held || echo free').stdout.trim(), 'free', `${h}: the lock taken there was given back`);
  assert.match(orch(['lock', 'status', inv, '--hosts', 'web'], { json: false }).stdout, new RegExp(`${web2}: locked by alice@laptop`));
  // held on another machine: orch cannot tell whether that run goes on, so only --force releases it
  const kept = orch(['lock', 'release', inv, '--hosts', 'web'], { json: false });
  assert.match(kept.stdout, new RegExp(`${web2}: NOT released: held by alice@laptop.*on another machine`));
  assert.notEqual(kept.code, 0);
  assert.match(orch(['lock', 'release', inv, '--hosts', 'web', '--force'], { json: false }).stdout, new RegExp(`${web2}: released, was held by alice@laptop`));
  assert.equal(onHost(web2, 'test -e /var/lib/orch/deploy.lock && echo held || echo free').stdout.trim(), 'free');
});

test('rollback: back to the previous release everywhere; an unknown target is a clear error and switches nothing', () => {
  const inv = inventory();
  const current = release(web1);
  const missing = orch(['rollback', inv, '--to', 'no-such-release']);
  assert.equal(missing.code, 2);
  assert.match(results(missing).find((x) => x.status === 'failed')?.msg ?? '', /release no-such-release is not on .*; it has: /);
  assert.equal(release(web1), current, 'nothing switched');
  const r = orch(['rollback', inv]);
  assert.equal(r.code, 0, failures(r));
  const back = release(web1);
  assert.notEqual(back, current);
  for (const h of webs) assert.equal(release(h), back, `${h} on the previous release`);
  assert.equal(onHost(lb, 'curl -s -m 3 http://127.0.0.1/health').code, 0);
});
