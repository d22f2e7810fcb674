import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunEvent } from '../../src/core/events.js';
import { HOSTS, oneHostInventory, onHost, orch, results, ROOT } from '../helpers/lab.js';

// community.general.pamd beyond `absent`: the same playbook (test/compat/pamd.yml) with orch and with
// ansible-playbook, each on its own copies of Debian's PAM files on one lab host; the files must be the
// same bytes (but the time in "# Updated by Ansible - TIME") and every task's status the same, twice.
const host = HOSTS[0] as string;
const PLAYBOOK = join(ROOT, 'test', 'compat', 'pamd.yml');
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;
const FILES: Record<string, string> = {
  password: 'common-password',
  'auth-updated': 'common-auth',
  'su-updated': 'su',
  'auth-before': 'common-auth',
  'auth-first': 'common-auth',
  'auth-after': 'common-auth',
  'auth-last': 'common-auth',
  'su-args': 'su',
  'auth-args-absent': 'common-auth',
  'su-absent': 'su',
  'auth-none': 'common-auth',
};

function prepare(dir: string): void {
  const copies = Object.entries(FILES).map(([name, src]) => `cp /etc/pam.d/${src} ${dir}/${name}`);
  const r = onHost(host, `rm -rf ${dir} && mkdir -p ${dir} && ${copies.join(' && ')}`);
  assert.equal(r.code, 0, r.stderr);
}

/** Every file of the directory, the mark's time taken out (read over plain ssh). */
function contents(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(FILES))
    out[name] = onHost(host, `cat ${dir}/${name}`).stdout.replace(
      /^# Updated by Ansible - .*$/m,
      '# Updated by Ansible - TIME',
    );
  return out;
}

function orchStatuses(events: RunEvent[]): string[] {
  return events
    .filter((e) => e.type === 'host_result')
    .map((e) => (e.type === 'host_result' ? `${e.task}: ${e.status}` : ''));
}

function ansibleStatuses(stdout: string): string[] {
  const out = JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
    plays: { tasks: { task: { name: string }; hosts: Record<string, { changed?: boolean; failed?: boolean }> }[] }[];
  };
  return (out.plays[0]?.tasks ?? []).map((t) => {
    const h = Object.values(t.hosts)[0] ?? {};
    return `${t.task.name}: ${h.failed ? 'failed' : h.changed ? 'changed' : 'ok'}`;
  });
}

test('pamd updated/before/after/args_present/args_absent/absent: the edits orch makes (checked over ssh), and a second run changes nothing', () => {
  const dir = '/tmp/pamd-orch';
  prepare(dir);
  const inv = oneHostInventory(host, 'pamd');
  const first = orch(['run', inv, PLAYBOOK, '-e', `dir=${dir}`]);
  assert.equal(
    first.code,
    0,
    results(first)
      .filter((r) => r.status === 'failed' && !r.ignored)
      .map((r) => `${r.task}: ${r.msg}`)
      .join('\n'),
  );
  const files = contents(dir);
  assert.match(
    files.password ?? '',
    /^password {3}\[success=1 default=ignore\] pam_unix\.so obscure yescrypt rounds=8$/m,
  );
  assert.match(
    files['auth-before'] ?? '',
    /^auth {7}required pam_faillock\.so preauth silent\nauth {7}requisite pam_deny\.so$/m,
  );
  assert.match(files['su-args'] ?? '', /^session {4}required pam_env\.so readenv=0 debug$/m);
  assert.doesNotMatch(files['su-absent'] ?? '', /pam_limits/);
  assert.equal(
    files['auth-none'],
    onHost(host, 'cat /etc/pam.d/common-auth').stdout,
    'a file where nothing matched is not written (no mark either)',
  );
  const second = orch(['run', inv, PLAYBOOK, '-e', `dir=${dir}`]);
  assert.deepEqual(
    results(second)
      .filter((r) => r.status === 'changed')
      .map((r) => r.task),
    [],
    'the second run changes nothing',
  );
});

test(
  'pamd: ansible-playbook and orch write the same bytes (but the time stamp) and report the same statuses, first and second run',
  { skip: !hasAnsible && 'ansible-playbook not installed' },
  () => {
    const inv = oneHostInventory(host, 'pamd');
    const ansible = (dir: string) => {
      const a = spawnSync('ansible-playbook', ['-i', inv, PLAYBOOK, '-e', `dir=${dir}`], {
        encoding: 'utf8',
        env: {
          ...process.env,
          ANSIBLE_STDOUT_CALLBACK: 'json',
          ANSIBLE_HOST_KEY_CHECKING: 'True',
          ANSIBLE_NOCOLOR: '1',
        },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 300_000,
      });
      assert.equal(a.status, 0, a.stdout.slice(-3000) + a.stderr.slice(-2000));
      return ansibleStatuses(a.stdout);
    };
    prepare('/tmp/pamd-ansible');
    prepare('/tmp/pamd-orch2');
    const a1 = ansible('/tmp/pamd-ansible');
    const o1 = orch(['run', inv, PLAYBOOK, '-e', 'dir=/tmp/pamd-orch2']);
    assert.deepEqual(contents('/tmp/pamd-orch2'), contents('/tmp/pamd-ansible'), 'the same files');
    assert.deepEqual(orchStatuses(o1.events), a1, 'first run: the same statuses');
    const a2 = ansible('/tmp/pamd-ansible');
    const o2 = orch(['run', inv, PLAYBOOK, '-e', 'dir=/tmp/pamd-orch2']);
    assert.deepEqual(orchStatuses(o2.events), a2, 'second run: the same statuses');
    assert.deepEqual(contents('/tmp/pamd-orch2'), contents('/tmp/pamd-ansible'), 'the same files after a second run');
  },
);
