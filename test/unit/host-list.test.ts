import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Secrets } from '../../src/core/secrets.js';
import { UsageError } from '../../src/core/errors.js';
import { parseHostListItem } from '../../src/inventory/host-list.js';
import { inventoryName, loadInventory, resolveInventoryPath } from '../../src/inventory/load.js';
import type { RunEvent } from '../../src/core/events.js';
import { ansiblePlaybook } from '../helpers/compat.js';

const ORCH = join(import.meta.dirname, '..', '..', 'bin', 'orch');

test('host list inventory: `a,b:2222,[::1]:23,` gives ungrouped hosts with their ports; a name with a space is refused', () => {
  const list = 'web1, web2:2222,[::1]:23,';
  assert.equal(resolveInventoryPath(list), list);
  const inv = loadInventory(list, new Secrets());
  assert.deepEqual(inv.order, ['web1', 'web2', '::1']);
  assert.deepEqual(inv.hostsOf('ungrouped'), ['web1', 'web2', '::1']);
  assert.equal(inv.host('web2').vars.ansible_port, 2222);
  assert.equal(inv.host('::1').vars.ansible_port, 23);
  assert.equal(inv.host('web1').vars.ansible_port, undefined);
  assert.deepEqual(parseHostListItem('fe80::1'), { name: 'fe80::1' });
  assert.throws(() => parseHostListItem('bad host'), UsageError);
  assert.doesNotMatch(inventoryName('a/b,c;$(x),'), /[/;$() ]/, 'a lock and log name without path or shell characters');
});

const PLAY = `- hosts: all
  connection: local
  gather_facts: no
  tasks:
    - name: magic variables of a host list
      debug:
        msg: "{{ inventory_hostname }}|{{ inventory_dir }}|{{ inventory_file }}|{{ group_names }}|{{ groups.ungrouped }}|{{ ansible_port | default('noport') }}"
    - name: ansible_host is the inventory name in a task, not in hostvars
      debug:
        msg: "{{ ansible_host }}|{{ hostvars[inventory_hostname].ansible_host | default('none') }}"
`;

test('host list inventory: orch prints what ansible-playbook prints for its magic variables and ansible_host', (t) => {
  if (spawnSync('ansible-playbook', ['--version']).status !== 0) return t.skip('ansible-playbook not installed');
  const dir = mkdtempSync(join(tmpdir(), 'orch-host-list-'));
  writeFileSync(join(dir, 'play.yml'), PLAY);
  const list = 'localhost,127.0.0.2:2222,';
  const o = spawnSync(ORCH, ['run', '-i', list, join(dir, 'play.yml'), '--output', 'json'], {
    encoding: 'utf8',
    cwd: dir,
  });
  assert.equal(o.status, 0, o.stdout + o.stderr);
  const orchMsgs = o.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RunEvent)
    .flatMap((e) => (e.type === 'host_result' ? [`${e.host} ${String(e.msg)}`] : []))
    .sort();
  const a = ansiblePlaybook(['-i', list, join(dir, 'play.yml')]);
  const ansibleMsgs = (a.plays[0]?.tasks ?? [])
    .flatMap((task) => Object.entries(task.hosts).map(([h, r]) => `${h} ${String((r as { msg?: unknown }).msg)}`))
    .sort();
  assert.deepEqual(orchMsgs, ansibleMsgs);
});
