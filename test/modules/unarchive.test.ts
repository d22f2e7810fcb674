import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { startHttpServer } from '../helpers/http.js';
import { apply, applyTwiceConverges, HOSTS, onHost, results, writePlaybook } from '../helpers/lab.js';

const host = HOSTS[0] as string;
const base = '/srv/orch-unarchive-test';

/** app/ with a script, a text file and a subdirectory, packed as tgz, tar.xz and zip (zip by Python's zipfile). */
function archives(): Record<string, string> {
  const work = mkdtempSync(join(tmpdir(), 'orch-arc-'));
  mkdirSync(join(work, 'app', 'sub'), { recursive: true });
  writeFileSync(join(work, 'app', 'one.txt'), 'one\n');
  writeFileSync(join(work, 'app', 'sub', 'two.txt'), 'two\n');
  writeFileSync(join(work, 'app', 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(join(work, 'app', 'run.sh'), 0o755);
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { cwd: work, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  };
  run('tar', ['-czf', 'app.tgz', 'app']);
  run('tar', ['-cJf', 'app.tar.xz', 'app']);
  run('python3', [
    '-c',
    "import zipfile,os\nz=zipfile.ZipFile('app.zip','w')\nfor d,_,fs in os.walk('app'):\n  z.write(d)\n  [z.write(os.path.join(d,f)) for f in fs]\nz.close()",
  ]);
  return Object.fromEntries(['app.tgz', 'app.tar.xz', 'app.zip'].map((f) => [f, join(work, f)]));
}

/** The archives in the playbook's files/ directory (binary: writePlaybook takes text). */
function withFiles(pb: string, files: Record<string, string>): void {
  mkdirSync(join(dirname(pb), 'files'), { recursive: true });
  for (const [name, path] of Object.entries(files)) copyFileSync(path, join(dirname(pb), 'files', name));
}

test('unarchive: tgz and zip from the controller, tar.xz on the host (remote_src, creates), a URL, exclude, owner/mode; second run ok; effects checked over ssh', async () => {
  const files = archives();
  onHost(host, `rm -rf ${base} && mkdir -p ${base}/tgz ${base}/zip ${base}/xz ${base}/url`);
  const server = await startHttpServer(dirname(files['app.tgz'] as string));
  const pb = writePlaybook(
    `
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - name: tgz
      unarchive: src=app.tgz dest=${base}/tgz owner=deploy mode=u=rwX,g=rX,o= list_files=yes
      register: tgz
    - name: files
      debug: msg="{{ tgz.files | sort | join(',') }}"
      when: tgz is changed
    - name: zip without sub
      unarchive: src=app.zip dest=${base}/zip exclude=app/sub/*
    - copy: src=app.tar.xz dest=${base}/app.tar.xz
    - name: from a URL on the host
      unarchive: src=${server.base}/app.tgz dest=${base}/url remote_src=yes
    - name: xz on the host
      unarchive: src=${base}/app.tar.xz dest=${base}/xz remote_src=yes creates=${base}/xz/app/run.sh
`,
  );
  withFiles(pb, files);
  let runs;
  try {
    runs = applyTwiceConverges(pb);
  } finally {
    server.stop();
  }
  const { first, second } = runs;
  assert.equal(onHost(host, `cat ${base}/url/app/one.txt`).stdout, 'one\n');
  assert.equal(results(first, 'files')[0]?.msg, 'app/,app/one.txt,app/run.sh,app/sub/,app/sub/two.txt', 'list_files');
  assert.equal(results(second, 'xz on the host')[0]?.status, 'skipped', 'creates= exists: skipped as Ansible');
  assert.equal(
    onHost(host, `cd ${base}/tgz/app && stat -c '%n %a %U' . run.sh one.txt sub sub/two.txt`).stdout,
    '. 750 deploy\nrun.sh 750 deploy\none.txt 640 deploy\nsub 750 deploy\nsub/two.txt 640 deploy\n',
  );
  assert.equal(
    onHost(host, `cat ${base}/tgz/app/sub/two.txt ${base}/zip/app/one.txt ${base}/xz/app/run.sh`).stdout,
    'two\none\n#!/bin/sh\necho run\n',
  );
  assert.equal(onHost(host, `test -e ${base}/zip/app/sub/two.txt || echo excluded`).stdout.trim(), 'excluded');
  assert.equal(onHost(host, `stat -c %a ${base}/xz/app/run.sh`).stdout.trim(), '755');
  assert.equal(
    onHost(host, 'ls -d /tmp/tmp.*/source 2>/dev/null | wc -l').stdout.trim(),
    '0',
    'copied archives removed',
  );

  // an extracted file edited on the host is restored (tar --diff sees its mtime), and only then
  onHost(host, `echo changed > ${base}/tgz/app/one.txt`);
  const again = apply(pb);
  assert.equal(results(again, 'tgz')[0]?.status, 'changed');
  assert.equal(onHost(host, `cat ${base}/tgz/app/one.txt`).stdout, 'one\n');
});

test('unarchive: a zip on a host without unzip fails with Ansible message; a missing dest is refused', () => {
  const files = archives();
  onHost(host, `mkdir -p ${base}/nozip && mv /usr/bin/unzip /usr/bin/unzip.orch-test-off`);
  try {
    const pb = writePlaybook(
      `
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - name: no unzip
      unarchive: src=app.zip dest=${base}/nozip
      ignore_errors: yes
    - name: no dest
      unarchive: src=app.zip dest=${base}/missing
      ignore_errors: yes
`,
    );
    withFiles(pb, files);
    const r = apply(pb);
    const msg = String(results(r, 'no unzip')[0]?.msg);
    assert.match(
      msg,
      /^Failed to find handler for "\/tmp\/.*\/source"\. Make sure the required command to extract the file is installed\.\n/,
    );
    assert.match(msg, /Unable to find required 'unzip' binary in the path\./);
    assert.equal(results(r, 'no dest')[0]?.msg, `dest '${base}/missing' must be an existing dir`);
    assert.equal(onHost(host, `ls -A ${base}/nozip`).stdout, '', 'nothing extracted');
    assert.equal(
      onHost(host, 'ls -d /tmp/tmp.*/source 2>/dev/null | wc -l').stdout.trim(),
      '0',
      'copied archives removed after a failure too',
    );
  } finally {
    onHost(host, 'mv /usr/bin/unzip.orch-test-off /usr/bin/unzip');
  }
});
