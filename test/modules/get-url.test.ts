import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { apply, applyTwiceConverges, HOSTS, onHost, results, writePlaybook } from '../helpers/lab.js';
import { startHttpServer, type TestServer } from '../helpers/http.js';

const host = HOSTS[0] as string;
const base = '/srv/orch-get-url-test';
const www = mkdtempSync(join(tmpdir(), 'orch-www-'));
const blob = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251));
const hex = (algo: string, data: string | Buffer) => createHash(algo).update(data).digest('hex');
let server: TestServer;

before(async () => {
  writeFileSync(join(www, 'hello.txt'), 'hello get_url\n');
  writeFileSync(join(www, 'blob.bin'), blob);
  writeFileSync(
    join(www, 'SHA256SUMS'),
    `${hex('sha256', 'hello get_url\n')}  hello.txt\n${hex('sha256', blob)} *blob.bin\n`,
  );
  mkdirSync(join(www, 'private'));
  writeFileSync(join(www, 'private', 'secret.txt'), 'for authorized eyes\n');
  server = await startHttpServer(www, 'fetcher:S3cr3t-pw');
});
after(() => server.stop());

test('get_url downloads on the host: mode/owner, checksum (hex and checksum-file URL), auth and headers, second run ok without re-downloading', () => {
  onHost(host, `rm -rf ${base} && mkdir -p ${base}/dir`);
  const pb = writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - get_url: url=${server.base}/hello.txt dest=${base}/hello.txt mode=0640 owner=deploy
    - name: into a directory, checksum from a checksum file
      get_url:
        url: ${server.base}/blob.bin
        dest: ${base}/dir/
        checksum: sha256:${server.base}/SHA256SUMS
    - name: hex checksum
      get_url: url=${server.base}/blob.bin dest=${base}/blob2.bin checksum=sha1:${hex('sha1', blob)}
    - name: basic auth and headers
      get_url:
        url: ${server.base}/private/secret.txt
        dest: ${base}/secret.txt
        url_username: fetcher
        url_password: S3cr3t-pw
        headers: { X-Orch-Test: yes-please }
`);
  const { first, second } = applyTwiceConverges(pb);
  assert.equal(
    onHost(host, `sha1sum ${base}/hello.txt ${base}/dir/blob.bin ${base}/blob2.bin | cut -c1-40`).stdout,
    `${hex('sha1', 'hello get_url\n')}\n${hex('sha1', blob)}\n${hex('sha1', blob)}\n`,
  );
  assert.equal(onHost(host, `stat -c '%a %U' ${base}/hello.txt ${base}/dir/blob.bin`).stdout, '640 deploy\n644 root\n');
  assert.equal(onHost(host, `cat ${base}/secret.txt`).stdout, 'for authorized eyes\n');
  assert.equal(onHost(host, `find ${base} -name '.orch-get_url*' | wc -l`).stdout.trim(), '0', 'no temp files left');
  const gets = server.requests().filter((r) => r.method === 'GET');
  // a directory dest is downloaded every run (as Ansible: the name is known only from the response);
  // a file dest with a checksum that matches is not downloaded again
  assert.equal(
    gets.filter((r) => r.path === '/blob.bin').length,
    3,
    'blob.bin: twice into the directory, once to blob2.bin',
  );
  assert.ok(
    gets.some((r) => r.path === '/private/secret.txt' && r.headers['X-Orch-Test'] === 'yes-please'),
    'custom header sent',
  );
  assert.ok(
    gets.some((r) => r.path === '/hello.txt' && r.headers['If-Modified-Since']),
    'second run asks If-Modified-Since',
  );
  for (const run of [first, second])
    assert.ok(
      !run.stdout.includes('S3cr3t-pw') && !run.stderr.includes('S3cr3t-pw'),
      'the password never appears in output',
    );
  const dirResult = results(first, 'into a directory, checksum from a checksum file')[0];
  assert.equal(dirResult?.status, 'changed');
  const again = results(second, 'into a directory, checksum from a checksum file')[0];
  assert.equal(again?.status, 'ok');
});

test('get_url: a checksum mismatch fails with Ansible message and leaves no file; check mode downloads nothing', () => {
  onHost(host, `mkdir -p ${base}`);
  const pb = writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - name: mismatch
      get_url: url=${server.base}/hello.txt dest=${base}/bad.txt checksum=sha256:${'0'.repeat(64)}
`);
  const r = apply(pb);
  assert.notEqual(r.code, 0);
  const res = results(r, 'mismatch')[0];
  assert.equal(res?.status, 'failed');
  assert.equal(
    res?.msg,
    `The checksum for ${base}/bad.txt did not match ${'0'.repeat(64)}; it was ${hex('sha256', 'hello get_url\n')}.`,
  );
  assert.equal(onHost(host, `test -e ${base}/bad.txt || echo absent`).stdout.trim(), 'absent');

  const check = writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - name: new file in check mode
      get_url: url=${server.base}/hello.txt dest=${base}/check.txt
`);
  const c = apply(check, ['--check']);
  assert.equal(c.code, 0);
  assert.equal(results(c, 'new file in check mode')[0]?.status, 'changed');
  assert.equal(onHost(host, `test -e ${base}/check.txt || echo absent`).stdout.trim(), 'absent');
});

test('get_url: force re-downloads a changed file and keeps a backup; tmp_dest is used and left clean; https with validate_certs', async () => {
  onHost(host, `rm -rf ${base}/f && mkdir -p ${base}/f/tmp`);
  const tlsDir = mkdtempSync(join(tmpdir(), 'orch-tls-'));
  const cert = join(tlsDir, 'cert.pem');
  const key = join(tlsDir, 'key.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=orch-test',
      '-days',
      '1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  const https = await startHttpServer(www, 'u:p', { cert, key });
  try {
    writeFileSync(join(www, 'changing.txt'), 'version 1\n');
    const pb = writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - name: forced
      get_url: url=${server.base}/changing.txt dest=${base}/f/changing.txt force=yes backup=yes tmp_dest=${base}/f/tmp
      register: r
    - name: backup
      debug: msg="{{ r.backup_file | default('none') }}"
    - name: self-signed, not validated
      get_url: url=${https.base}/hello.txt dest=${base}/f/tls.txt validate_certs=no
    - name: self-signed, validated
      get_url: url=${https.base}/hello.txt dest=${base}/f/tls2.txt
      ignore_errors: yes
`);
    const first = apply(pb);
    assert.equal(results(first, 'forced')[0]?.status, 'changed');
    assert.equal(results(first, 'backup')[0]?.msg, 'none', 'nothing to back up the first time');
    assert.equal(results(first, 'self-signed, not validated')[0]?.status, 'changed');
    const refused = results(first, 'self-signed, validated')[0];
    assert.equal(refused?.status, 'failed');
    assert.match(String(refused?.msg), /^Request failed: <urlopen error \[SSL: CERTIFICATE_VERIFY_FAILED\]/);
    const same = apply(pb);
    assert.equal(results(same, 'forced')[0]?.status, 'ok', 'same bytes: not changed even when forced');
    writeFileSync(join(www, 'changing.txt'), 'version 2\n');
    const changed = apply(pb);
    assert.equal(results(changed, 'forced')[0]?.status, 'changed');
    const backup = String(results(changed, 'backup')[0]?.msg);
    assert.match(backup, new RegExp(`^${base}/f/changing\\.txt\\.\\d+\\.\\d{4}-\\d\\d-\\d\\d@\\d\\d:\\d\\d:\\d\\d~$`));
    assert.equal(onHost(host, `cat ${base}/f/changing.txt ${backup}`).stdout, 'version 2\nversion 1\n');
    assert.equal(onHost(host, `ls -A ${base}/f/tmp`).stdout, '', 'tmp_dest left clean');
    assert.equal(onHost(host, `test -e ${base}/f/tls2.txt || echo absent`).stdout.trim(), 'absent');
  } finally {
    https.stop();
  }
});
