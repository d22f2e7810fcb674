import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMockPlaybook } from '../../helpers/mock-transport.js';

// What Ansible's play context adds to a task's variables where nothing sets them (ansible-playbook 2.14 on a
// lab host gives the same): ansible_connection, ansible_ssh_host, ansible_user from remote_user; hostvars do not
// show them.
const msgs = (events: { type: string; host?: string; msg?: unknown }[]) =>
  events.flatMap((e) => (e.type === 'host_result' ? [`${e.host}: ${String(e.msg)}`] : [])).sort();

test('play context variables: ansible_connection (ssh, the keyword, the inventory), ansible_ssh_host and the remote_user keyword as ansible_user; not in hostvars', async () => {
  const m = await runMockPlaybook(
    [
      '- hosts: all',
      '  gather_facts: no',
      '  remote_user: bob',
      '  tasks:',
      '    - debug:',
      `        msg: "{{ ansible_connection }} {{ ansible_ssh_host }} {{ ansible_user }} {{ hostvars[inventory_hostname].ansible_connection | default('-') }}"`,
      '    - debug: msg="{{ ansible_connection }}"',
      '      connection: paramiko',
    ].join('\n') + '\n',
    'h1 ansible_host=10.0.0.1\nh2 ansible_connection=smart ansible_user=al\n',
  );
  assert.deepEqual(msgs(m.events), ['h1: paramiko', 'h1: ssh 10.0.0.1 bob -', 'h2: smart', 'h2: smart h2 al smart']);
});
