import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyTwiceConverges, HOSTS, onHost, results, ROOT, writePlaybook } from '../helpers/lab.js';

// The template module end to end: orch renders test/fixtures/template-compat/render.yml on a lab host and
// the files there must be byte for byte what Ansible 2.14's template module wrote (expected/, see
// generate.sh), read back over plain ssh.
const host = HOSTS[0] as string;
const DIR = join(ROOT, 'test', 'fixtures', 'template-compat');
const OUT = '/tmp/orch-template-compat';

test("template module on a lab host: every case's bytes are Ansible's (sha1 over ssh), and a second run changes nothing", () => {
  onHost(host, `rm -rf ${OUT}`);
  const { first } = applyTwiceConverges(join(DIR, 'render.yml'), ['--limit', host, '-e', `out_dir=${OUT}`]);
  assert.ok(results(first).some((r) => r.module === 'template' && r.status === 'changed'));
  const names = readdirSync(join(DIR, 'expected')).sort();
  const remote = new Map(
    onHost(host, `cd ${OUT} && sha1sum -- *`)
      .stdout.trim()
      .split('\n')
      .map((l) => [l.slice(42), l.slice(0, 40)] as const),
  );
  const wrong = names.filter(
    (n) =>
      remote.get(n) !==
      createHash('sha1')
        .update(readFileSync(join(DIR, 'expected', n)))
        .digest('hex'),
  );
  assert.deepEqual(wrong, [], `files that differ from Ansible's: ${wrong.join(', ')}`);
  assert.equal(remote.size, names.length, 'no more and no fewer files than Ansible wrote');
});

test("template mode: preserve takes the template file's mode (0755 here), as Ansible does", () => {
  const src = join(DIR, 'templates', 'script.j2');
  assert.equal((statSync(src).mode & 0o777).toString(8), '755', 'the fixture is executable in git');
  const pb = writePlaybook(
    `- hosts: ${host}\n  gather_facts: no\n  vars: { ssh_port: 22 }\n  tasks:\n    - template: { src: ${src}, dest: ${OUT}/script, mode: preserve }\n`,
  );
  applyTwiceConverges(pb);
  assert.equal(onHost(host, `stat -c %a ${OUT}/script`).stdout.trim(), '755');
  assert.equal(onHost(host, `${OUT}/script`).stdout, '22\n');
});
