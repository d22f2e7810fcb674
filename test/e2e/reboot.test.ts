import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunEvent } from '../../src/core/events.js';
import {
  HOSTS,
  INVENTORY,
  ORCH,
  oneHostInventory,
  onHost,
  orch,
  results,
  ROOT,
  writePlaybook,
} from '../helpers/lab.js';

// The reboot and wait_for_connection modules on a systemd lab host (the lab boots a host that reboots
// itself again, on the same layer). When the runner's lab is not a systemd lab, the first host is reset
// into one for this file and reset back afterwards.
const host = HOSTS[0] as string;
const borrowed = process.env.ORCH_LAB_INIT !== 'systemd';
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;
const PLAYBOOK = join(ROOT, 'test', 'compat', 'reboot.yml');

function lab(args: string[]): void {
  const r = spawnSync(ORCH, ['lab', ...args], { encoding: 'utf8', env: process.env, timeout: 180_000 });
  if (r.status !== 0) throw new Error(`orch lab ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
}

before(() => {
  if (borrowed) lab(['reset', '--init', 'systemd', host]);
  onHost(host, 'timeout 60 systemctl is-system-running --wait');
});

after(() => {
  if (borrowed) lab(['reset', '--init', 'initd', host]);
});

function inventory(): string {
  return oneHostInventory(host, 't');
}

/** Boot id, and how long PID 1 (systemd) has run, read over plain ssh. */
function boot(): { id: string; pid1Seconds: number } {
  const r = onHost(host, 'cat /proc/sys/kernel/random/boot_id; ps -o etimes= -p 1');
  const [id = '', secs = ''] = r.stdout.trim().split('\n');
  return { id, pid1Seconds: Number(secs.trim()) };
}

/** Waits until plain ssh reaches the host again (up to 60 s); false if it never does. */
function waitForSsh(deadlineMs = 60_000): boolean {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (onHost(host, 'true').code === 0) return true;
    spawnSync('sleep', ['1']);
  }
  return false;
}

test('lab: `systemctl reboot` inside a systemd host boots it again on the same layer with a new boot id; `systemctl poweroff` leaves it off until `orch lab reboot`', () => {
  const was = boot();
  onHost(host, 'echo kept > /etc/orch-lab-reboot-marker; systemctl reboot');
  spawnSync('sleep', ['1']);
  assert.ok(waitForSsh(), 'the host came back');
  onHost(host, 'timeout 60 systemctl is-system-running --wait');
  assert.notEqual(boot().id, was.id, 'a new boot id');
  assert.equal(onHost(host, 'cat /etc/orch-lab-reboot-marker').stdout, 'kept\n', 'the same layer');
  onHost(host, 'systemctl poweroff');
  spawnSync('sleep', ['5']);
  assert.notEqual(onHost(host, 'true').code, 0, 'powered off: no answer');
  lab(['reboot', host]);
  assert.ok(waitForSsh(), 'orch lab reboot brings it back');
  onHost(host, 'timeout 60 systemctl is-system-running --wait');
});

test('reboot on a systemd lab host: the host boots again (a new boot id and a new PID 1, checked over ssh) on the same layer, the result has rebooted/elapsed, the next task runs over a new connection', () => {
  const was = boot();
  onHost(host, 'echo kept > /etc/orch-reboot-marker');
  const pb = writePlaybook(`
- hosts: all
  gather_facts: false
  become: true
  tasks:
    - reboot: {post_reboot_delay: 1}
      register: r
    - command: cat /etc/orch-reboot-marker /proc/sys/kernel/random/boot_id
      register: after
    - debug: var=r
`);
  const started = Date.now();
  const r = orch(['run', inventory(), pb]);
  assert.equal(
    r.code,
    0,
    results(r)
      .map((x) => `${x.task}: ${x.status} ${x.msg ?? ''}`)
      .join('\n') + r.stderr,
  );
  const now = boot();
  assert.notEqual(now.id, was.id, 'the boot id changed');
  assert.ok(
    now.pid1Seconds <= (Date.now() - started) / 1000 + 1,
    `PID 1 started during the run (${now.pid1Seconds} s ago)`,
  );
  const res = results(r).find((x) => x.module === 'reboot');
  assert.equal(res?.status, 'changed');
  const after = results(r).find((x) => x.module === 'command');
  assert.equal(
    after?.stdout,
    `kept\n${now.id}`,
    'the task after the reboot ran on the rebooted host, whose files were kept',
  );
  const shown = results(r).find((x) => x.module === 'debug')?.msg ?? '';
  assert.match(shown, /'changed': True, 'rebooted': True, 'elapsed': \d+/);
});

test('reboot and wait_for_connection: delays, timeouts, custom commands and failures (test/compat/reboot.yml) pass on orch', () => {
  const r = orch(['run', inventory(), PLAYBOOK]);
  const bad = results(r).filter((x) => x.status === 'failed' && !x.ignored);
  assert.equal(r.code, 0, bad.map((x) => `${x.task}: ${x.msg ?? ''}`).join('\n') + r.stderr);
});

test("wait_for_connection: a host that never answers fails after timeout with Ansible's message and elapsed; reboot with a local connection is refused", () => {
  const pb = writePlaybook(`
- hosts: all
  gather_facts: false
  tasks:
    - add_host: name=nowhere ansible_host=${addressNobodyHas()}
- hosts: nowhere
  gather_facts: false
  tasks:
    - wait_for_connection: {timeout: 3, connect_timeout: 1, sleep: 1}
      register: w
      ignore_errors: true
    - debug: var=w
      delegate_to: localhost
- hosts: all
  gather_facts: false
  tasks:
    # harmless commands even if the guard failed: the control machine must never reboot
    - reboot: {reboot_command: /bin/true, boot_time_command: echo same, reboot_timeout: 1}
      connection: local
      ignore_errors: true
      register: local
    - debug: var=local
`);
  const started = Date.now();
  const r = orch(['run', inventory(), pb]);
  const w = results(r).find((x) => x.module === 'wait_for_connection');
  assert.equal(w?.status, 'failed');
  assert.match(w?.msg ?? '', /^timed out waiting for ping module test: /);
  assert.ok(Date.now() - started < 30_000, 'gave up after its timeout');
  const shown = results(r)
    .filter((x) => x.module === 'debug')
    .map((x) => x.msg ?? '');
  assert.match(shown[0] ?? '', /'elapsed': [3-9]/);
  assert.match(
    shown[1] ?? '',
    /'msg': 'Running reboot with local connection would reboot the control node.'.*'rebooted': False|'rebooted': False.*Running reboot with local connection/,
  );
});

/** An address on the lab's bridge network that no host has. */
function addressNobodyHas(): string {
  const text = readFileSync(INVENTORY, 'utf8');
  const m = /ansible_host=(\d+\.\d+\.\d+)\.\d+/.exec(text);
  return `${m?.[1] ?? '127.0.0'}.250`;
}

type Row = string;
function orchRows(events: RunEvent[]): Row[] {
  const names = new Map<number, string>();
  const rows: Row[] = [];
  for (const e of events) {
    if (e.type === 'task_start') names.set(e.taskId, e.name);
    else if (e.type === 'host_result') rows.push(`${names.get(e.taskId) ?? e.task} | ${e.status}`);
  }
  return rows;
}

test(
  'reboot and wait_for_connection: ansible-playbook and orch agree task by task on test/compat/reboot.yml (statuses and recap)',
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const inv = inventory();
    const a = spawnSync('ansible-playbook', ['-i', inv, PLAYBOOK], {
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_NOCOLOR: '1' },
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
    assert.equal(a.status, 0, a.stdout.slice(-3000) + a.stderr.slice(-2000));
    const ansible = JSON.parse(a.stdout.slice(a.stdout.indexOf('{'))) as {
      plays: {
        tasks: {
          task: { name: string };
          hosts: Record<string, { changed?: boolean; failed?: boolean; skipped?: boolean }>;
        }[];
      }[];
      stats: Record<string, { ok: number; changed: number; failures: number; skipped: number; ignored: number }>;
    };
    const expected = (ansible.plays[0]?.tasks ?? []).map((t) => {
      const h = Object.values(t.hosts)[0] ?? {};
      return `${t.task.name} | ${h.failed ? 'failed' : h.skipped ? 'skipped' : h.changed ? 'changed' : 'ok'}`;
    });
    const o = orch(['run', inv, PLAYBOOK]);
    assert.equal(o.code, 0);
    assert.deepEqual(orchRows(o.events), expected);
    const recap = o.events.find((e) => e.type === 'recap');
    const s = Object.values(ansible.stats)[0];
    assert.ok(recap?.type === 'recap' && s);
    const mine = Object.values(recap.stats)[0];
    assert.deepEqual(
      [mine?.ok, mine?.changed, mine?.failed, mine?.skipped, mine?.ignored],
      [s.ok, s.changed, s.failures, s.skipped, s.ignored],
    );
  },
);
