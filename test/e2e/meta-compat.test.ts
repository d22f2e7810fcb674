import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ansiblePlaybook, ansibleRecap, ansibleRows, byHost, orchRecap, orchRows } from '../helpers/compat.js';
import { HOSTS, hostsInventory, onHost, orch, ROOT, writePlaybook } from '../helpers/lab.js';

// meta end_host / end_batch with serial, clear_host_errors, and a notified handler that does not exist: orch
// and ansible-playbook 2.14 on the same two lab hosts.
const PLAYBOOK = join(ROOT, 'test', 'compat', 'meta-serial.yml');
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;
const [first, second] = HOSTS as [string, string];
const inventory = () => hostsInventory([first, second], 'lab');

test('meta: end_host/end_batch end a serial batch, not the play; end_play the play (an ended host runs no handler); clear_host_errors in always lets the host go on (exit 0)', () => {
  onHost(first, 'rm -rf ~deploy/.orch/pending-handlers');
  const o = orch(['run', inventory(), PLAYBOOK]);
  assert.equal(o.code, 0, o.stderr);
  assert.equal(
    onHost(first, 'ls ~deploy/.orch/pending-handlers 2>/dev/null | wc -l').stdout.trim(),
    '0',
    'the handler the ended host notified is not kept for a later run',
  );
  const [p1, p2, p3, p4] = [
    'end_host on the only host of a serial batch',
    'end_batch in the first serial batch',
    'a host ended in the play before runs this one',
    'clear_host_errors',
  ];
  assert.deepEqual(byHost(orchRows(o.events)), [
    `${p1} | a change that notifies | ${first} | changed`,
    `${p1} | a change that notifies | ${second} | changed`,
    `${p1} | end the first host | ${second} | skipped`,
    `${p1} | after end_host | ${second} | ok`,
    `${p1} | a handler | ${second} | ok`,
    `${p2} | end the first batch | ${second} | skipped`,
    `${p2} | after end_batch | ${second} | ok`,
    `end_play after a notify | a change that notifies before end_play | ${first} | changed`,
    `end_play after a notify | a change that notifies before end_play | ${second} | changed`,
    `${p3} | both hosts again | ${first} | ok`,
    `${p3} | both hosts again | ${second} | ok`,
    `${p4} | fail on the first host | ${first} | failed`,
    `${p4} | fail on the first host | ${second} | skipped`,
    `${p4} | the first host went on after the block | ${first} | ok`,
    `${p4} | the first host went on after the block | ${second} | ok`,
    `${p4} | fail on the second host outside a block | ${first} | skipped`,
    `${p4} | fail on the second host outside a block | ${second} | failed`,
    `${p4} | only the first host, the second does not come back | ${first} | ok`,
  ]);
});

test(
  'meta: ansible-playbook and orch agree on meta-serial.yml, play by play, task by task, host by host, and on the recap',
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const inv = inventory();
    const ansible = ansiblePlaybook(['-i', inv, PLAYBOOK], 300_000);
    const o = orch(['run', inv, PLAYBOOK]);
    assert.equal(o.code, 0, 'exit 0 as ansible-playbook (the failures were cleared)');
    assert.deepEqual(byHost(orchRows(o.events)), byHost(ansibleRows(ansible)));
    assert.deepEqual(
      orchRecap(o.events),
      ansibleRecap(ansible),
      'ok changed unreachable failed skipped rescued ignored',
    );
  },
);

test(
  "handlers: a changed task notifying a handler that does not exist stops the run there with Ansible's message, exit status 1 and no recap",
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const marker = '/tmp/orch-missing-handler-after';
    const pb = writePlaybook(`- hosts: lab
  gather_facts: false
  tasks:
    - name: a change that notifies
      command: "true"
      notify: nosuch
    - name: after it
      file: path=${marker} state=touch
  handlers:
    - name: h
      debug: msg=h
`);
    const message =
      "The requested handler 'nosuch' was not found in either the main handlers list nor in the listening handlers list";
    const inv = inventory();
    for (const h of [first, second]) onHost(h, `rm -f ${marker}`);
    const a = spawnSync('ansible-playbook', ['-i', inv, pb], {
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_NOCOLOR: '1' },
      timeout: 300_000,
    });
    assert.equal(a.status, 1, a.stdout + a.stderr);
    assert.ok((a.stdout + a.stderr).includes(`ERROR! ${message}`), a.stdout + a.stderr);
    assert.ok(!a.stdout.includes('PLAY RECAP'), a.stdout);
    const o = orch(['run', inv, pb], { json: false });
    assert.equal(o.code, 1, o.stdout + o.stderr);
    assert.ok((o.stdout + o.stderr).includes(message), o.stdout + o.stderr);
    assert.ok(!o.stdout.includes('PLAY RECAP'), o.stdout);
    for (const h of [first, second])
      assert.equal(
        onHost(h, `test -e ${marker} && echo ran || echo no`).stdout,
        'no\n',
        `nothing ran after it on ${h}`,
      );
  },
);
