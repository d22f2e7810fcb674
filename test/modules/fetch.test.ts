import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { apply, applyTwiceConverges, HOSTS, onHost, results, writePlaybook } from '../helpers/lab.js';

const sha1 = (b: Buffer | string) => createHash('sha1').update(b).digest('hex');

test('fetch copies binary files of every host to dest/<host>/<path> and flat dests; second run ok', () => {
  const out = mkdtempSync(join(tmpdir(), 'orch-fetch-'));
  for (const h of HOSTS)
    onHost(
      h,
      `mkdir -p /srv/orch-fetch && head -c 50000 /dev/urandom > /srv/orch-fetch/blob.bin && printf '%s\\n' ${h} > /srv/orch-fetch/name.txt`,
    );
  const pb = writePlaybook(`
- hosts: ${HOSTS.join(',')}
  become: yes
  gather_facts: no
  tasks:
    - fetch: src=/srv/orch-fetch/blob.bin dest=${out}/tree
    - fetch: src=/srv/orch-fetch/name.txt dest=${out}/flat/{{ inventory_hostname }}.txt flat=yes
    - fetch: src=/srv/orch-fetch/name.txt dest=${out}/dir/ flat=yes
      when: inventory_hostname == '${HOSTS[0]}'
`);
  applyTwiceConverges(pb);
  for (const h of HOSTS) {
    const remote = onHost(h, 'sha1sum /srv/orch-fetch/blob.bin').stdout.slice(0, 40);
    assert.equal(sha1(readFileSync(join(out, 'tree', h, 'srv/orch-fetch/blob.bin'))), remote, `${h}: same bytes`);
    assert.equal(readFileSync(join(out, 'flat', `${h}.txt`), 'utf8'), `${h}\n`);
  }
  assert.equal(readFileSync(join(out, 'dir', 'name.txt'), 'utf8'), `${HOSTS[0]}\n`);
});

test('fetch never writes through a symlink (a linked directory under dest is refused, a link at the file name is replaced); missing src fails unless fail_on_missing=no', () => {
  const out = mkdtempSync(join(tmpdir(), 'orch-fetch-'));
  const elsewhere = mkdtempSync(join(tmpdir(), 'orch-elsewhere-'));
  const host = HOSTS[0] as string;
  mkdirSync(join(out, host), { recursive: true });
  symlinkSync(elsewhere, join(out, host, 'srv'));
  onHost(host, 'mkdir -p /srv/orch-fetch && echo x > /srv/orch-fetch/name.txt');
  writeFileSync(join(elsewhere, 'target'), 'precious\n');
  symlinkSync(join(elsewhere, 'target'), join(out, 'flat.txt'));
  const pb = writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - name: through a link
      fetch: src=/srv/orch-fetch/name.txt dest=${out}
      ignore_errors: yes
    - name: onto a link
      fetch: src=/srv/orch-fetch/name.txt dest=${out}/flat.txt flat=yes
    - name: missing, ignored
      fetch: src=/srv/orch-fetch/nope dest=${out} fail_on_missing=no
    - name: missing
      fetch: src=/srv/orch-fetch/nope dest=${out}
`);
  const r = apply(pb);
  assert.equal(results(r, 'through a link')[0]?.status, 'failed');
  assert.match(String(results(r, 'through a link')[0]?.msg), /symlink/);
  assert.deepEqual(readdirSync(elsewhere), ['target'], 'nothing written through the link');
  assert.equal(
    readFileSync(join(elsewhere, 'target'), 'utf8'),
    'precious\n',
    'a link at the file name is replaced, its target untouched',
  );
  assert.ok(lstatSync(join(out, 'flat.txt')).isFile());
  assert.equal(readFileSync(join(out, 'flat.txt'), 'utf8'), 'x\n');
  assert.equal(results(r, 'missing, ignored')[0]?.status, 'ok');
  assert.equal(results(r, 'missing')[0]?.status, 'failed');
  assert.equal(results(r, 'missing')[0]?.msg, 'the remote file does not exist, not transferring, ignored');
  assert.ok(!existsSync(join(out, host, 'srv', 'orch-fetch')));
});
