import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { failures, HOSTS, inventoryWithGroups, onHost, orch, resetHost, results, ROOT, startClientLoop, waitClientLoop, writePlaybook } from '../helpers/lab.js';

const [lb, web, db] = HOSTS as [string, string, string];
const site = join(ROOT, 'playbooks', 'site.yml');
/** One host per tier. */
const inv = inventoryWithGroups({ lb: [lb], web: [web], db: [db] });
const runSite = (extra: string[] = []) => orch(['run', inv, site, ...extra]);
const run = (playbook: string) => orch(['run', inv, playbook]);

// `[s]hop` so the pattern does not match the shell that runs pgrep.
const pids = (pattern: string) => onHost(web, `pgrep -f '[${pattern[0]}]${pattern.slice(1)}' | sort -n | tr '\\n' ' '`).stdout.trim();

const startLoad = (n: number, file: string) => startClientLoop(lb, 'http://127.0.0.1/', n, file, 'status');
const waitLoad = (file: string) => waitClientLoop(lb, file);

test('the whole stack from site.yml: HAProxy → Varnish → uWSGI/Django → PostgreSQL; converges', () => {
  resetHost(lb, web, db);
  const first = runSite([]);
  assert.equal(first.code, 0, failures(first));
  const second = runSite([]);
  assert.equal(second.code, 0, failures(second));
  assert.deepEqual(results(second).filter((r) => r.status === 'changed').map((r) => `${r.host}: ${r.task}`), []);
  const page = onHost(lb, 'curl -s -m 5 http://127.0.0.1/').stdout;
  assert.equal(page, `hello from the database (release initial, host ${web})\n`);
  assert.equal(onHost(lb, 'curl -s -m 5 http://127.0.0.1/health').stdout, 'ok release=initial\n');
  assert.match(onHost(web, 'curl -s -D - -o /dev/null http://127.0.0.1:6081/').stdout, /^Via: .*varnish/im);
});

test('uWSGI: a vassal change under load reloads gracefully: 0 failed requests, new workers, same emperor', () => {
  const emperor = onHost(web, 'cat /run/uwsgi-emperor.pid').stdout.trim();
  const workersBefore = pids('shop uWSGI worker');
  assert.ok(workersBefore.split(' ').length >= 4, `4 workers: ${workersBefore}`);
  startLoad(300, '/tmp/orch-load');
  onHost(lb, 'sleep 1');
  const r = runSite(['--limit', web, '-e', 'app_processes=3']);
  assert.equal(r.code, 0, failures(r));
  const codes = waitLoad('/tmp/orch-load');
  assert.equal(codes.length, 300);
  assert.deepEqual([...new Set(codes)], ['200'], `every request answered 200 (${codes.filter((c) => c !== '200').length} did not)`);
  onHost(web, 'sleep 2');
  const workersAfter = pids('shop uWSGI worker');
  assert.equal(workersAfter.split(' ').length, 3, `3 workers now: ${workersAfter}`);
  assert.ok(workersAfter.split(' ').every((p) => !workersBefore.split(' ').includes(p)), 'workers replaced');
  assert.equal(onHost(web, 'cat /run/uwsgi-emperor.pid').stdout.trim(), emperor, 'emperor kept');
  assert.match(onHost(web, 'cat /etc/uwsgi-emperor/vassals/shop.ini').stdout, /^processes = 3$/m);
});

test('uWSGI: removing the vassal stops the app', () => {
  const pb = writePlaybook(`- hosts: ${web}\n  become: yes\n  gather_facts: no\n  roles:\n    - role: uwsgi-emperor\n      uwsgi_vassals: [{ name: shop, state: absent }]\n`);
  const r = run(pb);
  assert.equal(r.code, 0, failures(r));
  let gone = false;
  for (let i = 0; i < 20 && !gone; i++) {
    gone = pids('shop uWSGI') === '';
    if (!gone) onHost(web, 'sleep 0.5');
  }
  assert.ok(gone, 'no shop uWSGI process left');
  assert.notEqual(onHost(web, 'curl -s -m 2 http://127.0.0.1:8000/health').code, 0);
  assert.equal(runSite(['--limit', web]).code, 0, 'and the site comes back');
});
