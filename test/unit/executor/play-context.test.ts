import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMockPlaybook } from '../../helpers/mock-transport.js';

// What Ansible's play context adds to a task's variables where nothing sets them (ansible-playbook 2.14 on a
// lab host gives the same): ansible_connection, ansible_ssh_host; hostvars do not show them. And Ansible's
// implicit localhost.
const msgs = (events: { type: string; host?: string; msg?: unknown }[]) =>
  events.flatMap((e) => (e.type === 'host_result' ? [`${e.host}: ${String(e.msg)}`] : [])).sort();

/** "host: msg" of every result of a playbook (its lines) on the mock hosts of `inventory`, sorted. */
async function messages(lines: string[], inventory: string): Promise<string[]> {
  return msgs((await runMockPlaybook(lines.join('\n') + '\n', inventory)).events);
}

test('play context variables: ansible_connection (ssh, the keyword, the inventory) and ansible_ssh_host in a task; not in hostvars', async () => {
  assert.deepEqual(
    await messages(
      [
        '- hosts: all',
        '  gather_facts: no',
        '  tasks:',
        '    - debug:',
        `        msg: "{{ ansible_connection }} {{ ansible_ssh_host }} {{ hostvars[inventory_hostname].ansible_connection | default('-') }}"`,
        '    - debug: msg="{{ ansible_connection }}"',
        '      connection: paramiko',
      ],
      'h1 ansible_host=10.0.0.1\nh2 ansible_connection=smart\n',
    ),
    ['h1: paramiko', 'h1: ssh 10.0.0.1 -', 'h2: smart', 'h2: smart h2 smart'],
  );
});

test("play context variables: a connection keyword that reads ansible_connection sees it undefined (no loop), and one made from a loop's item is read with the item", async () => {
  assert.deepEqual(
    await messages(
      [
        '- hosts: all',
        '  gather_facts: no',
        `  connection: "{{ ansible_connection | default('smart') }}"`,
        '  tasks:',
        '    - debug: msg="{{ ansible_connection }}"',
        '    - debug: msg="{{ item }} {{ ansible_connection }}"',
        '      connection: "{{ item }}"',
        '      loop: [ssh, paramiko]',
      ],
      'h1\n',
    ),
    ['h1: paramiko paramiko', 'h1: smart', 'h1: ssh ssh'],
  );
});

test('implicit localhost: a play on localhost, not in the inventory, runs on it with a local connection, in no group, in hostvars; `all` and --limit leave it out', async () => {
  const playbook =
    [
      '- hosts: localhost',
      '  gather_facts: no',
      '  tasks:',
      `    - debug: msg="{{ ansible_connection }} {{ group_names }} {{ groups['all'] }}"`,
      '- hosts: all',
      '  gather_facts: no',
      '  tasks:',
      `    - debug: msg="{{ hostvars['localhost'].inventory_hostname }}"`,
      '- hosts: localhost:h1',
      '  gather_facts: no',
      '  tasks:',
      '    - debug: msg=both',
    ].join('\n') + '\n';
  const m = await runMockPlaybook(playbook, 'h1\n');
  assert.deepEqual(msgs(m.events), ['h1: both', 'h1: localhost', 'localhost: both', "localhost: local [] ['h1']"]);
  const warnings = m.events.filter((e) => e.type === 'warning');
  assert.deepEqual(warnings, [], 'no "could not match" warning for localhost');

  const limited = await runMockPlaybook(playbook, 'h1\n', { run: { limit: 'h1' } });
  assert.deepEqual(msgs(limited.events), ['h1: both', 'h1: localhost']);
  const onlyLocal = await runMockPlaybook(playbook, 'h1\n', { run: { limit: 'localhost' } });
  assert.deepEqual(msgs(onlyLocal.events), ['localhost: both', "localhost: local [] ['h1']"]);
});

test('implicit localhost: patterns intersect and exclude it as any host; its ansible_connection=local is a host variable (over group_vars/all, in hostvars)', async () => {
  assert.deepEqual(
    await messages(
      [
        '- hosts: h1:&localhost',
        '  gather_facts: no',
        '  tasks: [{ debug: { msg: and } }]',
        '- hosts: localhost:!localhost',
        '  gather_facts: no',
        '  tasks: [{ debug: { msg: except } }]',
        '- hosts: localhost',
        '  gather_facts: no',
        '  tasks: [{ debug: { msg: "{{ hostvars.localhost.ansible_connection }}" } }]',
      ],
      '[all:vars]\nansible_connection=ssh\n[web]\nh1\n',
    ),
    ['localhost: local'],
  );
});

test('implicit localhost: a localhost in the inventory is that host (its variables), not an implicit one', async () => {
  const m = await runMockPlaybook(
    '- hosts: localhost\n  gather_facts: no\n  tasks:\n    - debug: msg="{{ ansible_connection }} {{ group_names }}"\n',
    '[web]\nlocalhost ansible_host=10.0.0.9\n',
  );
  assert.deepEqual(msgs(m.events), ["localhost: ssh ['web']"]);
});
