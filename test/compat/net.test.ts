import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ansiblePlaybook, assertSameAsAnsible } from '../helpers/compat.js';
import { startHttpServer } from '../helpers/http.js';
import { HOSTS, oneHostInventory, orch, results, ROOT } from '../helpers/lab.js';

// test/compat/net.yml (get_url, unarchive, fetch, git) run by ansible-playbook and by orch on the same host,
// compared task by task; each run starts from a clean slate (its first task).
const host = HOSTS[1] ?? (HOSTS[0] as string);

test('compat: ansible-playbook and orch agree task by task on net.yml (get_url, unarchive, fetch, git: statuses, recap, asserted result keys)', async (t) => {
  if (spawnSync('ansible-playbook', ['--version']).status !== 0) return t.skip('ansible-playbook not installed');
  const www = mkdtempSync(join(tmpdir(), 'orch-compat-www-'));
  writeFileSync(join(www, 'hello.txt'), 'hello get_url\n');
  writeFileSync(
    join(www, 'SHA256SUMS'),
    `${createHash('sha256').update('hello get_url\n').digest('hex')}  hello.txt\n`,
  );
  // the playbook beside its files/app.tgz (made here: no binary in the repository)
  const dir = mkdtempSync(join(tmpdir(), 'orch-compat-net-'));
  mkdirSync(join(dir, 'files', 'src', 'app'), { recursive: true });
  writeFileSync(join(dir, 'files', 'src', 'app', 'one.txt'), 'one\n');
  spawnSync('tar', ['-C', join(dir, 'files', 'src'), '-czf', join(dir, 'files', 'app.tgz'), 'app']);
  copyFileSync(join(ROOT, 'test', 'compat', 'net.yml'), join(dir, 'net.yml'));
  const server = await startHttpServer(www);
  try {
    const inv = oneHostInventory(host, 'compat');
    const extra = (who: string) => [
      '-e',
      `web=${server.base}`,
      '-e',
      `out=${mkdtempSync(join(tmpdir(), `orch-compat-${who}-`))}`,
    ];
    const ansible = ansiblePlaybook(['-i', inv, join(dir, 'net.yml'), ...extra('ansible')]);
    const o = orch(['run', inv, join(dir, 'net.yml'), ...extra('orch')]);
    assert.equal(
      o.code,
      0,
      results(o)
        .filter((x) => x.status === 'failed' && !x.ignored)
        .map((x) => `${x.task}: ${x.msg}`)
        .join('\n'),
    );
    assertSameAsAnsible(o.events, ansible, host);
  } finally {
    server.stop();
  }
});
