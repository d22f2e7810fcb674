import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectError } from '../../../src/core/errors.js';
import { EXIT, exitCodeFor } from '../../../src/executor/run.js';
import { resultLines, runMockPlaybook, warnings } from '../../helpers/mock-transport.js';

const play = (tasks: string, extra = '') => `- hosts: all\n  gather_facts: false\n${extra}  tasks:\n${tasks}`;

test('meta end_play: no later task starts on any host; the next play runs', async () => {
  const m = await runMockPlaybook(
    play(`    - { name: a, debug: msg=a }
    - meta: end_play
    - { name: b, debug: msg=b }
`) + play('    - { name: next play, debug: msg=n }\n'),
  );
  assert.deepEqual(resultLines(m.events), ['h1 a ok', 'h2 a ok', 'h1 next play ok', 'h2 next play ok']);
});

test('meta end_play under a false condition does nothing', async () => {
  const m = await runMockPlaybook(
    play(`    - { meta: end_play, when: false }
    - { name: b, debug: msg=b }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h1 b ok', 'h2 b ok']);
});

test('meta: a task its condition skips is shown skipped on those hosts (as Ansible), not counted in the recap', async () => {
  const m = await runMockPlaybook(
    play(`    - { name: ends h1, meta: end_host, when: "inventory_hostname == 'h1'" }
    - { name: b, debug: msg=b }
`),
  );
  assert.deepEqual(resultLines(m.events, true), ['h2 ends h1 skipped', 'h2 b ok']);
  assert.equal(m.rs.hosts.get('h2')?.stats.skipped, 0);
});

test('meta end_host: ends only the hosts its condition holds for, without failing them', async () => {
  const m = await runMockPlaybook(
    play(`    - { meta: end_host, when: "inventory_hostname == 'h1'" }
    - { name: b, debug: msg=b }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h2 b ok']);
  assert.equal(m.rs.hosts.get('h1')?.stats.failed, 0);
  assert.equal(m.rs.hosts.get('h1')?.ended, true);
});

// The cases below are as ansible-playbook 2.14 runs them (checked on local hosts, -c local).
test('meta end_batch: ends every host of the batch when its condition holds on one; the next serial batch runs', async () => {
  const m = await runMockPlaybook(
    play(
      `    - { meta: end_batch, when: "inventory_hostname == 'h1'" }
    - { name: b, debug: msg=b }
`,
      '  serial: 2\n',
    ),
    'h1\nh2\nh3\n',
  );
  assert.deepEqual(resultLines(m.events), ['h3 b ok']);
  assert.ok(!warnings(m.events).some((w) => /stopping the play/.test(w)), 'no batch counted as failed');
});

test('meta end_batch under a condition false on every host of the batch ends nothing', async () => {
  const m = await runMockPlaybook(
    play(`    - { meta: end_batch, when: false }
    - { name: b, debug: msg=b }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h1 b ok', 'h2 b ok']);
});

test('meta end_host on every host of a serial batch: the next batch still runs', async () => {
  const m = await runMockPlaybook(
    play(
      `    - { meta: end_host, when: "inventory_hostname == 'h1'" }
    - { name: b, debug: msg=b }
`,
      '  serial: 1\n',
    ),
  );
  assert.deepEqual(resultLines(m.events), ['h2 b ok']);
});

test('meta end_host does not count as a failure for max_fail_percentage', async () => {
  const m = await runMockPlaybook(
    play(
      `    - { meta: end_host, when: "inventory_hostname == 'h1'" }
    - { name: b, debug: msg=b }
`,
      '  serial: 2\n  max_fail_percentage: 0\n',
    ),
    'h1\nh2\nh3\n',
  );
  assert.deepEqual(resultLines(m.events), ['h2 b ok', 'h3 b ok']);
});

test('meta end_host and end_batch end the play for the host, not the run: the next play runs on it', async () => {
  const m = await runMockPlaybook(
    play(`    - { meta: end_host, when: "inventory_hostname == 'h1'" }
    - { meta: end_batch, when: "inventory_hostname == 'h2'" }
    - { name: b, debug: msg=b }
`) + play('    - { name: p2, debug: msg=n }\n'),
    'h1\nh2\nh3\n',
  );
  assert.deepEqual(resultLines(m.events), ['h1 p2 ok', 'h2 p2 ok', 'h3 p2 ok']);
});

test('meta clear_host_errors in always: a host that failed in the block runs the tasks after the block', async () => {
  const m = await runMockPlaybook(
    play(`    - block:
        - { name: boom, fail: msg=no, when: "inventory_hostname == 'h1'" }
      always:
        - meta: clear_host_errors
    - { name: after, debug: msg=a }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h1 boom failed', 'h2 boom skipped', 'h1 after ok', 'h2 after ok']);
  // the recap still counts the failure (as Ansible's: ok=1 failed=1)
  assert.deepEqual([m.rs.hosts.get('h1')?.stats.ok, m.rs.hosts.get('h1')?.stats.failed], [1, 1]);
});

test('meta clear_host_errors after a failure outside a block: the failed host does not come back', async () => {
  const m = await runMockPlaybook(
    play(`    - { name: boom, fail: msg=no, when: "inventory_hostname == 'h1'" }
    - meta: clear_host_errors
    - { name: after, debug: msg=a }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h1 boom failed', 'h2 boom skipped', 'h2 after ok']);
});

test('meta clear_host_errors in always, after a failure in rescue: the host goes on; recap failed=1 rescued=1', async () => {
  const m = await runMockPlaybook(
    play(`    - block:
        - { name: boom, fail: msg=no, when: "inventory_hostname == 'h2'" }
      rescue:
        - { name: boom2, fail: msg=no, when: "inventory_hostname == 'h2'" }
      always:
        - { meta: clear_host_errors, when: "inventory_hostname == 'h1'" }
    - { name: after, debug: msg=a }
`),
  );
  assert.deepEqual(resultLines(m.events), [
    'h1 boom skipped',
    'h2 boom failed',
    'h2 boom2 failed',
    'h1 after ok',
    'h2 after ok',
  ]);
  assert.deepEqual([m.rs.hosts.get('h2')?.stats.failed, m.rs.hosts.get('h2')?.stats.rescued], [1, 1]);
});

test('meta clear_host_errors in an inner always: the host goes on in the outer block, whose rescue does not run', async () => {
  const m = await runMockPlaybook(
    play(`    - block:
        - block:
            - { name: boom, fail: msg=no, when: "inventory_hostname == 'h1'" }
          always:
            - meta: clear_host_errors
        - { name: inner after, debug: msg=a }
      rescue:
        - { name: rescue, debug: msg=r }
`),
  );
  assert.deepEqual(resultLines(m.events), [
    'h1 boom failed',
    'h2 boom skipped',
    'h1 inner after ok',
    'h2 inner after ok',
  ]);
});

test('meta clear_host_errors: the failures before it still show in the recap but no longer fail the run (exit 0, as Ansible)', async () => {
  const boom = `    - { name: boom, fail: msg=no, when: "inventory_hostname == 'h1'" }\n`;
  const code = async (yaml: string, inventory?: string) =>
    exitCodeFor((await runMockPlaybook(yaml, inventory)).rs.hosts.values(), {});
  assert.equal(await code(play(boom)), EXIT.hostFailed, 'without it: 2');
  assert.equal(
    await code(play(`${boom}    - meta: clear_host_errors\n`)),
    EXIT.ok,
    'the host did not come back, yet 0',
  );
  assert.equal(await code(play(boom) + play('    - meta: clear_host_errors\n')), EXIT.ok, 'cleared in a later play');
  assert.equal(
    await code(play(`    - meta: clear_host_errors\n${boom}`)),
    EXIT.hostFailed,
    'a failure after it still counts',
  );
  assert.equal(
    await code(
      play(`${boom}    - { meta: clear_host_errors, when: "inventory_hostname == 'h3'" }\n`, '  serial: 2\n'),
      'h1\nh2\nh3\n',
    ),
    EXIT.hostFailed,
    "another serial batch's failures stay",
  );
});

test('meta clear_host_errors: a host that was unreachable is tried again by the next task; exit 0 once it answers (as Ansible)', async () => {
  let refused = 0;
  const m = await runMockPlaybook(
    play(`    - { name: t1, command: "true" }
    - meta: clear_host_errors
    - { name: t2, command: "true" }
`),
    'h1\nh2\n',
    {
      answer: (host) => {
        if (host === 'h2' && refused++ === 0) throw new ConnectError('h2', 'connection refused');
        return undefined;
      },
    },
  );
  assert.deepEqual(resultLines(m.events), ['h1 t1 changed', 'h2 t1 unreachable', 'h1 t2 changed', 'h2 t2 changed']);
  assert.equal(m.rs.hosts.get('h2')?.stats.unreachable, 1, 'the recap keeps it');
  assert.equal(exitCodeFor(m.rs.hosts.values(), {}), EXIT.ok);
});

test('meta clear_facts: when its condition holds on one host, every host of the play forgets its facts (as Ansible)', async () => {
  const withFacts = (when: string) =>
    runMockPlaybook(play(`    - { meta: clear_facts, when: "${when}" }\n`), 'h1\nh2\n', {
      before: (rs) => {
        for (const hs of rs.hosts.values()) hs.keepFacts({ ansible_distribution: 'Debian' }, 'facts');
      },
    });
  const m = await withFacts("inventory_hostname == 'h1'");
  assert.equal(m.rs.hosts.get('h1')?.facts, undefined);
  assert.equal(m.rs.hosts.get('h2')?.facts, undefined);
  const none = await withFacts('false');
  assert.deepEqual(none.rs.hosts.get('h2')?.facts, { distribution: 'Debian' }, 'a false condition clears nothing');
});

test('meta reset_connection: the connection of every host is dropped (the next task reconnects); a `when` is ignored with a warning (as Ansible)', async () => {
  const m = await runMockPlaybook(play(`    - { meta: reset_connection, when: "inventory_hostname == 'h2'" }\n`));
  assert.deepEqual([...m.dropped].sort(), ['h1', 'h2']);
  assert.deepEqual(warnings(m.events), ['reset_connection task does not support when conditional']);
});

test('meta refresh_inventory: not implemented, refused when a host reaches it (not at load; a `when` is ignored, as Ansible)', async () => {
  await assert.rejects(
    runMockPlaybook(play('    - meta: refresh_inventory\n')),
    /meta: refresh_inventory is not implemented by orch \(task at .*playbook\.yml:4\)/,
  );
  await assert.rejects(runMockPlaybook(play('    - { meta: refresh_inventory, when: false }\n')), /not implemented/);
  const unreached = await runMockPlaybook(play('    - meta: end_play\n    - meta: refresh_inventory\n'));
  assert.deepEqual(resultLines(unreached.events), [], 'no host reaches it: no error');
});
