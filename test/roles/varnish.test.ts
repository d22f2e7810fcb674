import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressOf, apply, failures, HOSTS, onHost, resetHost, results, ROOT, writePlaybook } from '../helpers/lab.js';

const host = HOSTS[1] as string;

function play(): string {
  return writePlaybook(`- hosts: ${host}\n  become: yes\n  roles: [varnish]\n`);
}

const stat = (field: string) => Number(onHost(host, `varnishstat -1 -f ${field} | awk '{print $2}'`).stdout.trim());
const varnishPids = () => onHost(host, 'pgrep -x varnishd | sort | tr "\\n" " "').stdout.trim();
const headers = (path: string) => onHost(host, `curl -s -D - -o /dev/null http://127.0.0.1:6081${path}`).stdout;
const age = (h: string) => Number(/^Age: (\d+)/im.exec(h)?.[1] ?? -1);

test('varnish: VCL change is a graceful reload: same varnishd, objects kept, cached URL still a hit', () => {
  resetHost(host);
  onHost(host, "pkill -f 'http[.]server 8000'; true");
  onHost(host, 'mkdir -p /srv/app && cd /srv/app && echo ok > health && echo page > page.html && (nohup python3 -m http.server 8000 --bind 127.0.0.1 > /srv/app/access.log 2>&1 &)');
  const first = apply(play(), [], { cwd: ROOT });
  assert.equal(first.code, 0, failures(first));
  const second = apply(play(), [], { cwd: ROOT });
  assert.deepEqual(results(second).filter((r) => r.status === 'changed').map((r) => r.task), []);
  assert.match(onHost(host, 'cat /etc/varnish/default.vcl').stdout, /acl purge/);

  // Warm the cache.
  headers('/page.html');
  onHost(host, 'sleep 2');
  const warm = headers('/page.html');
  assert.ok(age(warm) >= 1, `second request is a hit with Age (${warm})`);
  const objects = stat('MAIN.n_object');
  assert.ok(objects >= 1);
  const pids = varnishPids();
  const vclsBefore = onHost(host, 'varnishadm vcl.list').stdout;

  const r = apply(play(), ['-e', 'varnish_grace=2h'], { cwd: ROOT });
  assert.equal(r.code, 0, failures(r));
  assert.equal(results(r).find((x) => x.task === 'reload varnish vcl')?.status, 'changed');
  assert.notEqual(onHost(host, 'varnishadm vcl.list').stdout, vclsBefore, 'a new VCL is active');
  assert.equal(varnishPids(), pids, 'varnishd was not restarted');
  assert.ok(stat('MAIN.n_object') >= objects, 'the cache kept its objects');
  const after = headers('/page.html');
  assert.ok(age(after) > age(warm), `still the cached object, older now (${age(warm)} → ${age(after)})`);
  assert.match(onHost(host, 'cat /etc/varnish/default.vcl').stdout, /set beresp.grace = 2h;/);
});

test('varnish: old VCLs are discarded; a VCL that does not compile never replaces the good one', () => {
  for (const g of ['3h', '4h', '5h', '7h']) assert.equal(apply(play(), ['-e', `varnish_grace=${g}`], { cwd: ROOT }).code, 0);
  const loaded = onHost(host, 'varnishadm vcl.list').stdout.trim().split('\n').filter((l) => l.trim() && !l.startsWith('discarded'));
  // varnishreload -m 3 leaves at most 3 earlier reloads, plus the active VCL and the boot one.
  assert.ok(loaded.length <= 5, `old VCLs discarded:\n${loaded.join('\n')}`);
  assert.equal(loaded.filter((l) => l.startsWith('active')).length, 1);
  const good = onHost(host, 'md5sum /etc/varnish/default.vcl').stdout;
  const bad = apply(play(), ['-e', 'varnish_grace=soon'], { cwd: ROOT });
  assert.equal(bad.code, 2);
  assert.match(results(bad).find((x) => x.status === 'failed')?.msg ?? '', /failed to validate/);
  assert.equal(onHost(host, 'md5sum /etc/varnish/default.vcl').stdout, good);
});

test('varnish: PURGE from outside the ACL is refused; a storage change waits for an allowed restart', () => {
  const outside = onHost(HOSTS[0] as string, `curl -s -o /dev/null -w '%{http_code}' -X PURGE http://${addressOf(host)}:6081/page.html`).stdout;
  assert.equal(outside, '405', 'another host may not purge');
  const purge = onHost(host, `curl -s -o /dev/null -w '%{http_code}' -X PURGE http://127.0.0.1:6081/page.html`).stdout;
  assert.equal(purge, '200', 'localhost may purge');
  const pids = varnishPids();
  const r = apply(play(), ['-e', 'varnish_storage=malloc,128m'], { cwd: ROOT });
  assert.equal(r.code, 0, failures(r));
  assert.match(results(r).find((x) => x.module === 'debug')?.msg ?? '', /apply at the next restart/);
  assert.equal(varnishPids(), pids, 'no restart without varnish_restart_allowed');
});
