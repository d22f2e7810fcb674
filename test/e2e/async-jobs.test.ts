import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ansiblePlaybook, ansibleRecap, ansibleRows, byHost, orchRecap, orchRows } from '../helpers/compat.js';
import { HOSTS, hostsInventory, onHost, orch, ROOT } from '../helpers/lab.js';

// async + poll: 0 on command/shell, and async_status: orch and ansible-playbook 2.14 on the same lab host.
const PLAYBOOK = join(ROOT, 'test', 'compat', 'async-jobs.yml');
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;
const host = HOSTS[0] as string;
const inventory = () => hostsInventory([host], 'async');

test('async poll 0: command/shell run as background jobs; async_status answers running, finished (the command result), killed at the limit, cleanup, unknown', () => {
  onHost(host, 'sudo rm -rf /root/.ansible_async /tmp/async-never');
  const o = orch(['run', inventory(), PLAYBOOK]);
  assert.equal(o.code, 0, o.stdout.slice(-3000));
  // independently of orch: the job past its limit was killed with what it started, and never wrote its file
  const left = onHost(host, 'pgrep -f "slee[p] 47" || true; sudo ls /root/.ansible_async; ls /tmp/async-never 2>&1');
  assert.doesNotMatch(left.stdout, /^\d+$/m, 'no process of the killed job is left');
  assert.match(left.stdout, /No such file/, 'the killed job did not go on');
  assert.match(left.stdout, /^j\d+\.\d+\.out$/m, "the finished jobs' files stay until cleanup");
});

test(
  'async poll 0: ansible-playbook and orch agree on async-jobs.yml task by task and on the recap',
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const inv = inventory();
    const ansible = ansiblePlaybook(['-i', inv, PLAYBOOK], 300_000);
    const o = orch(['run', inv, PLAYBOOK]);
    assert.equal(o.code, 0);
    assert.deepEqual(byHost(orchRows(o.events)), byHost(ansibleRows(ansible)));
    assert.deepEqual(orchRecap(o.events), ansibleRecap(ansible));
  },
);
