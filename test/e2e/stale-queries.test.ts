import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressOf,
  failures,
  HOSTS,
  INVENTORY,
  onHost,
  orch,
  orchBackground,
  results,
  sshArgv,
  writePlaybook,
} from '../helpers/lab.js';
import type { RunEvent } from '../../src/core/events.js';

// Read-only queries fetched ahead (executor/prefetch.ts) must never answer for a host whose state
// changed in between by a way orch does not send to that host itself: a task run from the controller,
// a pause, another host's task. Each playbook reads a file, changes it behind orch's back, reads again.
const [a, b] = HOSTS as [string, string];
const FILE = '/tmp/orch-stale-query';

/** A shell command for the controller: the plain OpenSSH client writes `text` into FILE on `host`. */
function sshWrite(host: string, text: string): string {
  const words = [...sshArgv(host), `echo ${text} > ${FILE}`].map((w) => `'${w.replace(/'/g, `'\\''`)}'`);
  return `ssh ${words.join(' ')}`;
}

/** What the debug task at the end reported per host: "before=… after=…". */
function seen(events: RunEvent[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events) if (e.type === 'host_result' && e.module === 'debug') out[e.host] = String(e.msg);
  return out;
}

test('stale queries: a delegate_to localhost task that writes to the host over ssh is seen by the next stat and slurp', () => {
  onHost(a, `rm -f ${FILE}`);
  const pb = writePlaybook(`- hosts: ${a}
  gather_facts: no
  tasks:
    - stat: path=${FILE}
      register: before
    - name: change the host from the controller
      shell: ${sshWrite(a, 'new')}
      delegate_to: localhost
    - stat: path=${FILE}
      register: after
    - slurp: src=${FILE}
      register: content
    - lineinfile: path=${FILE} line=new
      check_mode: yes
      register: line
    - debug: msg="before={{ before.stat.exists }} after={{ after.stat.exists }} content={{ content.content | b64decode | trim }} line_changed={{ line.changed }}"
`);
  const r = orch(['run', INVENTORY, pb]);
  assert.equal(r.code, 0, failures(r));
  assert.equal(onHost(a, `cat ${FILE}`).stdout, 'new\n', 'the ssh write happened');
  assert.equal(seen(r.events)[a], 'before=False after=True content=new line_changed=False');
});

test('stale queries: a file changed during pause is seen by the task after the pause', async () => {
  onHost(a, `echo old > ${FILE}`);
  const pb = writePlaybook(`- hosts: ${a}
  gather_facts: no
  tasks:
    - stat: path=${FILE}
      register: before
    - pause: seconds=5
    - stat: path=${FILE}
      register: after
    - lineinfile: path=${FILE} line=changed-in-pause
      check_mode: yes
      register: line
    - debug: msg="before={{ before.stat.size }} after={{ after.stat.size }} line_changed={{ line.changed }}"
`);
  const bg = orchBackground(['run', INVENTORY, pb]);
  let out = '';
  bg.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((res) => bg.on('exit', (c) => res(c ?? -1)));
  const deadline = Date.now() + 20_000;
  while (!/"type":"task_start"[^\n]*"module":"pause"/.test(out) && Date.now() < deadline)
    await new Promise((res) => setTimeout(res, 50));
  assert.ok(Date.now() < deadline, 'the pause started');
  assert.equal(onHost(a, `echo changed-in-pause > ${FILE}`).code, 0);
  assert.equal(await exited, 0, out);
  const events = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RunEvent);
  assert.equal(seen(events)[a], 'before=4 after=17 line_changed=False');
});

test("stale queries: host A's task delegated to host B (by address) changes B, and B's next task sees it", () => {
  onHost(b, `rm -f ${FILE}`);
  const pb = writePlaybook(`- hosts: ${a}:${b}
  gather_facts: no
  become: yes
  tasks:
    - stat: path=${FILE}
      register: before
    - name: A writes to its peer B
      shell: echo from-a > ${FILE}
      delegate_to: "{{ hostvars['${b}'].ansible_host }}"
      when: inventory_hostname == '${a}'
    - stat: path=${FILE}
      register: after
    - debug: msg="before={{ before.stat.exists }} after={{ after.stat.exists }}"
`);
  const r = orch(['run', INVENTORY, pb]);
  assert.equal(r.code, 0, failures(r));
  assert.equal(onHost(b, `cat ${FILE}`).stdout, 'from-a\n', 'A wrote to B');
  assert.equal(results(r, 'A writes to its peer B').find((x) => x.host === a)?.delegatedTo, addressOf(b));
  assert.equal(seen(r.events)[b], 'before=False after=True');
  onHost(b, `rm -f ${FILE}`);
});

test('stale queries: a play that gathers facts reads them again (as Ansible), after an earlier play renamed the host', () => {
  const pb = writePlaybook(`- hosts: ${a}
  become: yes
  tasks:
    - command: hostname renamed-by-play-one
- hosts: ${a}
  become: yes
  tasks:
    - debug: msg="hostname={{ ansible_hostname }}"
`);
  try {
    const r = orch(['run', INVENTORY, pb]);
    assert.equal(r.code, 0, failures(r));
    assert.equal(onHost(a, 'hostname').stdout.trim(), 'renamed-by-play-one');
    assert.equal(seen(r.events)[a], 'hostname=renamed-by-play-one');
  } finally {
    onHost(a, `hostname ${a}`);
  }
});

test('stale queries: controller-only tasks keep one batch of queries; a pause ends it and the tasks after it fetch one more', () => {
  const pb = writePlaybook(`- hosts: ${a}
  gather_facts: no
  tasks:
    - stat: path=/etc/hostname
    - set_fact: { x: 1 }
    - stat: path=/etc/hosts
    - debug: msg=hi
    - assert: { that: x == 1 }
    - stat: path=/etc/passwd
    - pause: seconds=1
    - stat: path=/etc/group
    - slurp: src=/etc/hostname
`);
  const r = orch(['run', INVENTORY, pb]);
  assert.equal(r.code, 0, failures(r));
  const recap = r.events.find((e) => e.type === 'recap');
  assert.equal(recap?.type === 'recap' ? recap.roundTrips[a] : undefined, 2, 'one batch before the pause, one after');
});
