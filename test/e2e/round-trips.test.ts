import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { failures, HOSTS, INVENTORY, onHost, orch, resetHost, results, ROOT, writePlaybook } from '../helpers/lab.js';
import type { RunEvent } from '../../src/core/events.js';

// Queries fetched ahead in one batch (executor/prefetch.ts): a converged run costs a constant number of
// round trips per host, and what was fetched ahead is never used after the host changed.
const host = HOSTS[2] as string;
const roundTrips = (events: RunEvent[]) => {
  const recap = events.find((e) => e.type === 'recap');
  return recap?.type === 'recap' ? recap.roundTrips[host] : undefined;
};

test('round trips: the 30-task benchmark playbook, converged, costs at most 3 round trips per host', () => {
  resetHost(host);
  const pb = join(ROOT, 'test', 'bench', 'playbook.yml');
  const first = orch(['run', INVENTORY, pb, '--limit', host]);
  assert.equal(first.code, 0, failures(first));
  const second = orch(['run', INVENTORY, pb, '--limit', host]);
  assert.equal(second.code, 0, failures(second));
  assert.deepEqual(
    results(second)
      .filter((r) => r.status === 'changed')
      .map((r) => r.task),
    [],
  );
  const n = roundTrips(second.events) ?? 99;
  assert.ok(n <= 3, `converged run: ${n} round trips (facts, one batch of queries)`);
  assert.ok((roundTrips(first.events) ?? 0) > n, 'the first run, which changes things, needs more');
  // each write carries the next tasks' queries behind it (task.ts speculate), sysctl writes file and live
  // value in one command, path info rides behind writes: 63 before, then 44, 34 measured
  assert.ok((roundTrips(first.events) ?? 99) <= 36, `first run: ${roundTrips(first.events)} round trips`);
});

test('round trips: a changing copy, template or file task reads its path attributes in the write round trip', () => {
  const [uid, user] = onHost(
    host,
    'rm -rf /tmp/orch-rt-pi && mkdir -m 0777 /tmp/orch-rt-pi && id -u "$SUDO_USER" && id -un "$SUDO_USER"',
  )
    .stdout.trim()
    .split('\n');
  const tpl = join(mkdtempSync(join(tmpdir(), 'orch-rt-')), 'x.j2');
  writeFileSync(tpl, '{{ inventory_hostname }}\n');
  const pb = writePlaybook(`- hosts: ${host}
  gather_facts: no
  tasks:
    - copy: dest=/tmp/orch-rt-pi/c content="12345\\n" mode=0640
      register: c
    - template: src=${tpl} dest=/tmp/orch-rt-pi/t mode=0604
      register: t
    - file: path=/tmp/orch-rt-pi/d state=directory mode=02750
      register: d
    - assert:
        that:
          - c.uid == ${uid} and c.owner == '${user}' and c.mode == '0640' and c.size == 6 and c.state == 'file'
          - t.uid == ${uid} and t.mode == '0604' and t.size == ${host.length + 1} and t.state == 'file'
          - d.uid == ${uid} and d.group == c.group and d.mode == '02750' and d.state == 'directory'
`);
  const r = orch(['run', INVENTORY, pb]);
  assert.equal(r.code, 0, failures(r));
  assert.deepEqual(
    results(r).map((x) => x.status),
    ['changed', 'changed', 'changed', 'ok'],
  );
  // one batch of the modules' queries, then each write with its path's attributes behind it
  // (7 before the probe rode behind the write)
  assert.equal(roundTrips(r.events), 4, `${roundTrips(r.events)} round trips`);
  assert.equal(
    onHost(host, 'cd /tmp/orch-rt-pi && stat -c "%u %a %s" c t d').stdout,
    `${uid} 640 6\n${uid} 604 ${host.length + 1}\n${uid} 2750 4096\n`,
  );
});

test('round trips: a query fetched ahead is never used once an earlier task changed the host', () => {
  onHost(host, 'rm -f /tmp/orch-prefetch');
  const pb = writePlaybook(`- hosts: ${host}
  gather_facts: no
  tasks:
    - copy: dest=/tmp/orch-prefetch content="a\\n"
    - lineinfile: path=/tmp/orch-prefetch line=b
    - lineinfile: path=/tmp/orch-prefetch line=c
    - lineinfile: path=/tmp/orch-prefetch line=b
    - stat: path=/tmp/orch-prefetch
      register: st
    - assert: { that: st.stat.size == 6 }
`);
  const r = orch(['run', INVENTORY, pb]);
  assert.equal(r.code, 0, failures(r));
  assert.deepEqual(
    results(r).map((x) => x.status),
    ['changed', 'changed', 'changed', 'ok', 'ok', 'ok'],
  );
  assert.equal(onHost(host, 'cat /tmp/orch-prefetch').stdout, 'a\nb\nc\n');
});

test('round trips: a play with handlers reads its pending handlers in the facts round trip', () => {
  const pb = writePlaybook(`- hosts: ${host}
  become: yes
  tasks:
    - copy: dest=/tmp/orch-rt-a content="a\\n"
      notify: touched
    - copy: dest=/tmp/orch-rt-b content="b\\n"
    - file: path=/tmp/orch-rt-a mode=0644
  handlers:
    - name: touched
      command: touch /tmp/orch-rt-handler
`);
  const first = orch(['run', INVENTORY, pb]);
  assert.equal(first.code, 0, failures(first));
  const second = orch(['run', INVENTORY, pb]);
  assert.deepEqual(
    results(second).map((x) => x.status),
    ['ok', 'ok', 'ok', 'ok'],
  );
  assert.equal(roundTrips(second.events), 2, 'facts with pending handlers, then one batch of queries');
});

test("round trips: a loop's items are queried in the batch (8 directories, converged: one round trip)", () => {
  const pb = writePlaybook(`- hosts: ${host}
  gather_facts: no
  tasks:
    - file: path=/tmp/orch-rt-loop state=directory
    - file: path=/tmp/orch-rt-loop/{{ item }} state=directory mode=0750
      loop: [a, b, c, d, e, f, g, h]
`);
  const first = orch(['run', INVENTORY, pb]);
  assert.equal(first.code, 0, failures(first));
  const second = orch(['run', INVENTORY, pb]);
  assert.deepEqual(
    results(second).map((x) => x.status),
    Array(9).fill('ok'),
  );
  assert.equal(roundTrips(second.events), 1, 'every item answered from one batch');
  assert.equal(onHost(host, 'stat -c %a /tmp/orch-rt-loop/h').stdout, '750\n');
});

test('round trips: a command of the probe form (perl -e CODE orch-probe) is a query: answered in the batch', () => {
  onHost(host, 'printf x > /tmp/orch-rt-probe');
  const pb = writePlaybook(`- hosts: ${host}
  gather_facts: no
  tasks:
    - stat: path=/tmp/orch-rt-probe
    - command:
        argv: [perl, -e, 'print -s "/tmp/orch-rt-probe"', orch-probe]
      register: size
      changed_when: false
    - stat: path=/etc/hostname
    - assert: { that: size.stdout == '1' }
`);
  const r = orch(['run', INVENTORY, pb]);
  assert.equal(r.code, 0, failures(r));
  assert.equal(roundTrips(r.events), 1, 'the probe went with the other queries');
});

test('round trips: a task that is not a plain query keeps the batch when skipped everywhere, drops it when it runs', () => {
  onHost(host, 'printf old > /tmp/orch-rt-brk');
  const pb = writePlaybook(`- hosts: ${host}
  gather_facts: no
  become: yes
  tasks:
    - slurp: src=/tmp/orch-rt-brk
    - uri: url=http://127.0.0.1:1/
      when: false
    - shell: printf new > /tmp/orch-rt-brk
      delegate_to: "{{ inventory_hostname }}"
      when: change | default(false) | bool
    - slurp: src=/tmp/orch-rt-brk
      register: after
    - assert: { that: "after.content | b64decode == ('new' if change | default(false) | bool else 'old')" }
`);
  const kept = orch(['run', INVENTORY, pb]);
  assert.equal(kept.code, 0, failures(kept));
  assert.equal(roundTrips(kept.events), 1, 'both skipped: the second slurp came from the batch');
  const changed = orch(['run', INVENTORY, pb, '-e', 'change=true']);
  assert.equal(changed.code, 0, failures(changed));
  assert.equal(onHost(host, 'cat /tmp/orch-rt-brk').stdout, 'new');
});

test('round trips: queries as two sudo users, past a flush_handlers with nothing to run, go in one round trip', () => {
  // the first play starts the runners of root and of nobody (1 or 2 round trips: each asks once it is
  // up); the second play's batch asks both users at once: 1 (before: 3, flush_handlers ended the batch)
  const pb = writePlaybook(`- hosts: ${host}
  gather_facts: no
  become: yes
  tasks:
    - stat: path=/
      become_user: nobody
    - stat: path=/
- hosts: ${host}
  gather_facts: no
  become: yes
  tasks:
    - stat: path=/etc/hostname
    - meta: flush_handlers
    - stat: path=/tmp
      become_user: nobody
    - slurp: src=/etc/hostname
`);
  const r = orch(['run', INVENTORY, pb]);
  assert.equal(r.code, 0, failures(r));
  assert.ok(
    (roundTrips(r.events) ?? 99) <= 3,
    `${roundTrips(r.events)} round trips: at most 2 for the first play, 1 for the whole second play`,
  );
});

test('round trips: what is fetched behind a write is never used when the task sends another command after it', () => {
  const value = String(20 + Math.floor(Math.random() * 30));
  const pb = writePlaybook(`- hosts: ${host}
  gather_facts: no
  become: yes
  tasks:
    - sysctl: name=net.ipv4.tcp_fin_timeout value=${value} sysctl_file=/etc/sysctl.d/70-rt.conf sysctl_set=yes
    - slurp: src=/proc/sys/net/ipv4/tcp_fin_timeout
      register: live
    - slurp: src=/etc/sysctl.d/70-rt.conf
      register: file
    - assert:
        that:
          - (live.content | b64decode | trim) == '${value}'
          - "'net.ipv4.tcp_fin_timeout=${value}' in (file.content | b64decode)"
`);
  const r = orch(['run', INVENTORY, pb]);
  assert.equal(r.code, 0, failures(r));
  assert.equal(onHost(host, 'cat /proc/sys/net/ipv4/tcp_fin_timeout').stdout.trim(), value);
});
