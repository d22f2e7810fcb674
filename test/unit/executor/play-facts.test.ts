import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectError } from '../../../src/core/errors.js';
import type { RunEvent } from '../../../src/core/events.js';
import { resultLines, runMockPlaybook, type Answer } from '../../helpers/mock-transport.js';

const gathering = (events: RunEvent[]) =>
  events.filter((e): e is Extract<RunEvent, { type: 'host_result' }> => e.type === 'host_result' && e.taskId === 0);
/** The facts probe (facts/probe.ts) with its hex-encoded strings read: its section markers show. */
const decoded = (command: string) =>
  command.replace(/pack\("H\*","([0-9a-f]*)"\)/g, (_, hex: string) => Buffer.from(hex, 'hex').toString());
const isFacts = (command: string) => decoded(command).includes('@@orch-facts:');

/** MOCK host answers: the facts probe says the host's name is `web-<host>`. */
const answerFacts: Answer = (host, command) =>
  isFacts(command) ? { stdout: `\n@@orch-facts:platform\nhostname=web-${host}\n` } : undefined;

test('play facts: one Gathering Facts task (id 0), an ok per host, the facts parsed from one command per host', async () => {
  const m = await runMockPlaybook('- hosts: all\n  tasks:\n    - debug: msg="{{ ansible_hostname }}"\n', 'h1\nh2\n', {
    answer: answerFacts,
  });
  assert.deepEqual(resultLines(m.events), [
    'h1 Gathering Facts ok',
    'h2 Gathering Facts ok',
    'h1 debug ok',
    'h2 debug ok',
  ]);
  const start = m.events.find((e) => e.type === 'task_start');
  assert.ok(
    start?.type === 'task_start' && start.taskId === 0 && start.name === 'Gathering Facts' && start.module === 'setup',
  );
  assert.deepEqual(m.events.flatMap((e) => (e.type === 'host_result' && e.module === 'debug' ? [e.msg] : [])).sort(), [
    'web-h1',
    'web-h2',
  ]);
  assert.equal(m.sent.filter((c) => isFacts(c.command)).length, 2);
  assert.equal(m.rs.hosts.get('h1')?.stats.ok, 2);
});

test('play facts: gathered facts are merged over facts a module set earlier (they stay)', async () => {
  const m = await runMockPlaybook('- hosts: h1\n  tasks: []\n', 'h1\n', {
    answer: answerFacts,
    before: (rs) => rs.hosts.get('h1')?.keepFacts({ packages: { nginx: [] } }, 'facts'),
  });
  const facts = m.rs.hosts.get('h1')?.facts;
  assert.deepEqual([facts?.hostname, facts?.packages], ['web-h1', { nginx: [] }]);
});

test('play facts: gather_subset (a list, or a comma string, templated) picks the sections the script asks for', async () => {
  const scripts = async (subset: string) => {
    const m = await runMockPlaybook(
      `- hosts: h1\n  vars: { s: "!all" }\n  gather_subset: ${subset}\n  tasks: []\n`,
      'h1\n',
    );
    const sent = decoded(m.sent.find((c) => isFacts(c.command))?.command ?? '');
    return [...sent.matchAll(/@@orch-facts:(\w+)/g)].map((x) => x[1]);
  };
  assert.deepEqual(
    await scripts('"{{ s }}"'),
    ['platform', 'user', 'date_time', 'env', 'local'],
    '!all: the min subset',
  );
  assert.deepEqual(await scripts('"!all, network"'), ['platform', 'user', 'date_time', 'env', 'local', 'network']);
  assert.deepEqual(await scripts('["!all", "!min", "hardware"]'), ['hardware'], 'a list; !min drops even the minimum');
});

test("play facts: an unknown gather_subset fails the host with Ansible's message (without asking it)", async () => {
  const m = await runMockPlaybook('- hosts: h1\n  gather_subset: [hardwares]\n  tasks:\n    - debug: msg=x\n', 'h1\n');
  const [r] = gathering(m.events);
  assert.equal(r?.status, 'failed');
  assert.match(r?.msg ?? '', /^Bad subset 'hardwares' given to Ansible\. gather_subset options allowed: all, /);
  assert.deepEqual(resultLines(m.events), ['h1 Gathering Facts failed'], 'the failed host runs nothing after');
  assert.equal(m.rs.hosts.get('h1')?.stats.failed, 1);
  assert.equal(m.sent.filter((c) => isFacts(c.command)).length, 0);
});

test('play facts: a host that cannot be reached is unreachable, with the connection error and its hint', async () => {
  const m = await runMockPlaybook('- hosts: all\n  tasks:\n    - debug: msg=x\n', 'h1\nh2\n', {
    answer: (host, command) => {
      if (host === 'h1') throw new ConnectError('h1', 'connection refused', { hint: 'is sshd running?' });
      return answerFacts(host, command, {});
    },
  });
  const r = gathering(m.events).find((e) => e.host === 'h1');
  assert.deepEqual([r?.status, r?.msg, r?.hint], ['unreachable', 'h1: connection refused', 'is sshd running?']);
  assert.deepEqual(resultLines(m.events), ['h1 Gathering Facts unreachable', 'h2 Gathering Facts ok', 'h2 debug ok']);
  assert.equal(m.rs.hosts.get('h1')?.stats.unreachable, 1);
});

test('play facts: pending handlers are read alongside the facts, not asked again before the tasks', async () => {
  const m = await runMockPlaybook('- hosts: h1\n  tasks: []\n  handlers:\n    - { name: h, debug: msg=h }\n', 'h1\n', {
    answer: answerFacts,
  });
  assert.equal(m.sent.filter((c) => c.command.includes('pending-handlers')).length, 1);
});

test('play facts: a task sees the facts as they are now (gathered by setup, cleared by meta clear_facts, gathered by a play)', async () => {
  let gathered = 0;
  const m = await runMockPlaybook(
    [
      '- hosts: h1',
      '  tasks:',
      '    - debug: msg="{{ ansible_hostname }}"',
      '    - setup:',
      '    - debug: msg="{{ ansible_hostname }} {{ ansible_facts.hostname }}"',
      '    - meta: clear_facts',
      `    - debug: msg="{{ ansible_hostname | default('none') }}"`,
      '- hosts: h1',
      '  tasks:',
      '    - debug: msg="{{ ansible_hostname }}"',
      '',
    ].join('\n'),
    'h1\n',
    {
      answer: (_host, command) =>
        isFacts(command) ? { stdout: `\n@@orch-facts:platform\nhostname=n${++gathered}\n` } : undefined,
    },
  );
  assert.deepEqual(
    m.events.flatMap((e) => (e.type === 'host_result' && e.module === 'debug' ? [e.msg] : [])),
    ['n1', 'n2 n2', 'none', 'n3'],
  );
});
