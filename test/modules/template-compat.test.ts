import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyTwiceConverges, HOSTS, onHost, results, ROOT } from '../helpers/lab.js';

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
  const wrong = names.filter((n) => remote.get(n) !== createHash('sha1').update(readFileSync(join(DIR, 'expected', n))).digest('hex'));
  assert.deepEqual(wrong, [], `files that differ from Ansible's: ${wrong.join(', ')}`);
  assert.equal(remote.size, names.length, 'no more and no fewer files than Ansible wrote');
});
