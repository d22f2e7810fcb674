import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ansiblePlaybook, ansibleRecap, ansibleRows, byHost, orchRecap, orchRows } from '../helpers/compat.js';
import { HOSTS, hostsInventory, onHost, orch, ROOT, writePlaybook } from '../helpers/lab.js';

// add_host and group_by change the inventory for the rest of the run: compared with ansible-playbook on
// the same two lab hosts, play by play, task by task, host by host, and the recap.
const PLAYBOOK = join(ROOT, 'test', 'compat', 'dynamic-inventory.yml');
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;
const [first, second] = HOSTS as [string, string];

/** The lab's first two hosts in group `lab` (a file both tools read). */
const inventory = () => hostsInventory([first, second], 'lab');

test('add_host and group_by: later plays run on the hosts and groups they made, the added host is reached over its own ansible_host/port/user (checked over ssh)', () => {
  onHost(second, 'rm -f /tmp/dyn-orch');
  const r = orch(['run', inventory(), PLAYBOOK, '-e', 'tool=orch']);
  const failed = r.events.filter((e) => e.type === 'host_result' && e.status === 'failed' && !e.ignored);
  assert.equal(r.code, 0, JSON.stringify(failed) + r.stderr);
  // the task ran on `added1`, which is the second lab host reached through add_host's ansible_host
  assert.equal(onHost(second, 'cat /tmp/dyn-orch').stdout, 'added1 blue extra,fresh\n');
  assert.equal(onHost(first, 'test -e /tmp/dyn-orch && echo yes || echo no').stdout, 'no\n');
  assert.ok(
    r.events.some(
      (e) => e.type === 'warning' && e.msg === 'Could not match supplied host pattern, ignoring: never_made',
    ),
    'a group never made is a warning, as in Ansible',
  );
  const once = r.events.filter((e) => e.type === 'host_result' && e.task === 'the same again changes nothing');
  assert.deepEqual(
    once.map((e) => e.type === 'host_result' && e.host),
    [first],
    'add_host runs once, on the first host (Ansible bypasses the host loop)',
  );
});

test('add_host: a host it adds still has its host key verified (an unknown key is unreachable, not trusted)', () => {
  const empty = join(mkdtempSync(join(tmpdir(), 'orch-dyninv-kh-')), 'known_hosts');
  writeFileSync(empty, '');
  const pb = writePlaybook(`
- hosts: lab
  gather_facts: false
  tasks:
    - add_host: name=stranger ansible_host="{{ hostvars[groups['lab'][0]].ansible_host }}" orch_known_hosts_file=${empty}
- hosts: stranger
  gather_facts: false
  tasks:
    - command: "true"
`);
  const r = orch(['run', inventory(), pb]);
  const res = r.events.find((e) => e.type === 'host_result' && e.host === 'stranger');
  assert.ok(res?.type === 'host_result');
  assert.equal(res.status, 'unreachable');
  assert.match(res.msg ?? '', /host key/i);
  assert.equal(r.code, 3);
});

test(
  'add_host and group_by: ansible-playbook and orch agree on every play, task and host status and on the recap',
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const inv = inventory();
    const ansible = ansiblePlaybook(['-i', inv, PLAYBOOK, '-e', 'tool=ansible'], 300_000);
    assert.equal(
      onHost(second, 'cat /tmp/dyn-ansible').stdout,
      'added1 blue extra,fresh\n',
      'Ansible reached the same host',
    );
    const o = orch(['run', inv, PLAYBOOK, '-e', 'tool=orch']);
    assert.deepEqual(byHost(orchRows(o.events)), byHost(ansibleRows(ansible)));
    assert.deepEqual(
      orchRecap(o.events),
      ansibleRecap(ansible),
      'same recap per host: ok changed unreachable failed skipped rescued ignored',
    );
  },
);
