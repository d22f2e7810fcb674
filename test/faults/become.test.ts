import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fault } from '../helpers/faults.js';
import { addressOf, HOSTS, onHost, orch, results, writePlaybook } from '../helpers/lab.js';

// become as a handshake (transport/become.ts): the password goes only to sudo's/su's prompt, never into
// the command's input; refusals are typed failures naming the host. Checked over plain ssh.
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';
const host = HOSTS[0] as string;
const MODES = ['driver', 'exec'] as const;

/** An inventory of this one host, logging in as `user`, with extra host vars. */
function inventoryAs(user: string, vars: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-become-inv-'));
  const p = join(dir, 'hosts');
  writeFileSync(
    p,
    `${host} ansible_host=${addressOf(host)} ansible_user=${user} ansible_ssh_private_key_file=${join(LAB_DIR, 'id_ed25519')} orch_known_hosts_file=${join(LAB_DIR, 'known_hosts')} ${vars}\n`,
  );
  return p;
}

const run = (inv: string, pb: string, mode: (typeof MODES)[number]) =>
  orch(['run', inv, pb], { env: mode === 'exec' ? { ORCH_SSH_MODE: 'exec' } : { ORCH_SSH_MODE: '' } });
const failed = (r: ReturnType<typeof orch>) =>
  results(r).find((x) => x.status === 'failed' || x.status === 'unreachable');
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

// Bytes a file must hold exactly: no password line in front, trailing newline kept.
const CONTENT = 'first line\nsecond: "quoted" $HOME `x`\n';
const TEMPLATE = 'rendered for {{ inventory_hostname }}\n';

/** Several commands in a row (each must get its own answer), stdin, a copy and a template, as root. */
function playbook(dest: string, extra = ''): string {
  return writePlaybook(
    `- hosts: all\n  gather_facts: no\n  become: yes\n${extra}  tasks:\n` +
      '    - command: id -u\n      register: a\n' +
      '    - command: echo two\n      register: b\n' +
      '    - command: cat\n      args: { stdin: from-stdin }\n      register: c\n' +
      '    - command: whoami\n      register: d\n' +
      `    - copy: { dest: ${dest}.copy, content: ${JSON.stringify(CONTENT)}, mode: '0600' }\n` +
      `    - template: { src: t.j2, dest: ${dest}.tpl }\n` +
      `    - assert: { that: ["a.stdout == '0'", "b.stdout == 'two'", "c.stdout == 'from-stdin'", "d.stdout == 'root'"] }\n`,
    { 't.j2': TEMPLATE },
  );
}

function checkFiles(dest: string): void {
  const sums = onHost(host, `sha1sum ${dest}.copy ${dest}.tpl | cut -d' ' -f1`).stdout.split('\n');
  assert.equal(sums[0], sha1(CONTENT), 'copy: byte-exact');
  assert.equal(sums[1], sha1(`rendered for ${host}\n`), 'template: byte-exact');
}

test('become: users on the lab host (NOPASSWD with a password set; password needed; root password for su)', () => {
  const keys = 'mkdir -p /home/$u/.ssh; cp /home/deploy/.ssh/authorized_keys /home/$u/.ssh/; chown -R $u /home/$u/.ssh';
  const r = onHost(
    host,
    `for u in bnopw bpw bnos; do id $u >/dev/null 2>&1 || useradd -m -s /bin/sh $u; ${keys}; done; ` +
      "printf 'bnopw:bnopw-pass-1\\nbpw:bpw-pass-1\\nbnos:bnos-pass-1\\nroot:root-pass-1\\n' | chpasswd; " +
      "printf 'bnopw ALL=(ALL) NOPASSWD: ALL\\nbpw ALL=(ALL) ALL\\nDefaults:bpw logfile=/var/log/orch-become-sudo.log\\n' > /etc/sudoers.d/orch-become-test; chmod 440 /etc/sudoers.d/orch-become-test; " +
      'rm -f /tmp/orch-become-*',
  );
  assert.equal(r.code, 0, r.stderr);
});

for (const mode of MODES) {
  fault(
    `become (${mode}): NOPASSWD user with ansible_become_password set`,
    'exit 0; each command its own answer; stdin and files byte-exact (no password in them)',
    () => {
      const dest = `/tmp/orch-become-nopw-${mode}`;
      const r = run(inventoryAs('bnopw', 'ansible_become_password=bnopw-pass-1'), playbook(dest), mode);
      assert.equal(r.code, 0, JSON.stringify(failed(r)));
      checkFiles(dest);
      return 'exit 0; uid 0, echo two, stdin and whoami answered in order; copy/template sha1 as sent';
    },
  );

  fault(
    `become (${mode}): user whose sudo needs the password`,
    'exit 0; files byte-exact; the password not in any output',
    () => {
      const dest = `/tmp/orch-become-pw-${mode}`;
      const r = run(inventoryAs('bpw', 'ansible_become_password=bpw-pass-1'), playbook(dest), mode);
      assert.equal(r.code, 0, JSON.stringify(failed(r)));
      checkFiles(dest);
      assert.doesNotMatch(
        r.stdout,
        /bpw-pass-1|orch-become-[0-9a-f]{24}|ORCH-BECOME-OK/,
        'no password, prompt or marker in the output',
      );
      return 'exit 0; commands in order; copy/template sha1 as sent; no password/prompt/marker in output';
    },
  );

  fault(
    `become (${mode}): wrong sudo password`,
    'task failed (not unreachable), exit 2, names the host and "incorrect password"; password not printed',
    () => {
      const r = run(
        inventoryAs('bpw', 'ansible_become_password=not-the-one'),
        playbook(`/tmp/orch-become-bad-${mode}`),
        mode,
      );
      assert.equal(r.code, 2);
      const f = failed(r);
      assert.equal(f?.status, 'failed');
      assert.match(
        f?.msg ?? '',
        new RegExp(`^${host}: sudo to root failed: sudo refused the password \\(incorrect password\\)`),
      );
      assert.match(f?.hint ?? '', /ansible_become_password/);
      assert.doesNotMatch(JSON.stringify(r.events), /not-the-one/);
      return `exit ${r.code}; ${f?.status}: ${f?.msg}; hint: ${f?.hint}`;
    },
  );

  fault(
    `become (${mode}): no password set for a user that needs one`,
    'task failed: "a password is required", with a hint',
    () => {
      const r = run(inventoryAs('bpw', ''), playbook(`/tmp/orch-become-none-${mode}`), mode);
      assert.equal(r.code, 2);
      assert.match(failed(r)?.msg ?? '', /sudo to root failed: .*a password is required/);
      assert.match(failed(r)?.hint ?? '', /ansible_become_password/);
      return `exit ${r.code}; ${failed(r)?.msg}`;
    },
  );

  fault(
    `become (${mode}): a command whose stderr mentions a password is not a sudo failure`,
    "the command's own failure: rc 3, its stderr, no sudo message",
    () => {
      const pb = writePlaybook(
        `- hosts: all\n  gather_facts: no\n  become: yes\n  tasks:\n    - shell: "echo 'psql: error: a password is required (Sorry, try again)' >&2; exit 3"\n`,
      );
      const r = run(inventoryAs('bnopw', 'ansible_become_password=bnopw-pass-1'), pb, mode);
      assert.equal(r.code, 2);
      const f = failed(r);
      assert.equal(f?.rc, 3);
      assert.equal(f?.msg, 'non-zero return code');
      assert.equal(f?.stderr, 'psql: error: a password is required (Sorry, try again)');
      return `rc ${f?.rc}; msg "${f?.msg}"; stderr kept`;
    },
  );

  fault(
    `become_method su (${mode}): root's password`,
    'exit 0 as root; files byte-exact; wrong password → failed naming the host',
    () => {
      const dest = `/tmp/orch-become-su-${mode}`;
      const ok = run(
        inventoryAs('deploy', 'ansible_become_password=root-pass-1'),
        playbook(dest, '  become_method: su\n'),
        mode,
      );
      assert.equal(ok.code, 0, JSON.stringify(failed(ok)));
      checkFiles(dest);
      const bad = run(
        inventoryAs('deploy', 'ansible_become_password=wrong-root'),
        playbook(dest, '  become_method: su\n'),
        mode,
      );
      assert.equal(bad.code, 2);
      assert.match(failed(bad)?.msg ?? '', new RegExp(`^${host}: su to root failed: .*Authentication failure`));
      return `exit 0 and files exact; wrong password: ${failed(bad)?.msg}`;
    },
  );
}

fault(
  'a refused sudo password is tried once per host, not once per task',
  'three become tasks (ignore_errors) all fail with the refusal; sudo logged one incorrect attempt',
  () => {
    onHost(host, 'rm -f /var/log/orch-become-sudo.log');
    const task = '    - command: id -u\n      become: yes\n      ignore_errors: yes\n';
    const pb = writePlaybook(`- hosts: all\n  gather_facts: no\n  tasks:\n${task}${task}${task}`);
    const r = orch(['run', inventoryAs('bpw', 'ansible_become_password=not-the-one'), pb]);
    const failures = results(r).filter((x) => x.status === 'failed');
    assert.equal(failures.length, 3);
    for (const f of failures) assert.match(f.msg ?? '', /incorrect password/);
    const attempts = onHost(host, 'grep -c "incorrect password attempt" /var/log/orch-become-sudo.log').stdout.trim();
    assert.equal(attempts, '1', onHost(host, 'cat /var/log/orch-become-sudo.log').stdout);
    return `3 tasks failed; sudo log: ${attempts} incorrect attempt`;
  },
);

fault('become: a user not in sudoers', "task failed naming the host, sudo's words and advice to grant it", () => {
  const r = orch(['run', inventoryAs('bnos', 'ansible_become_password=bnos-pass-1'), playbook('/tmp/orch-become-nos')]);
  assert.equal(r.code, 2);
  const f = failed(r);
  assert.equal(f?.status, 'failed');
  assert.match(f?.msg ?? '', new RegExp(`^${host}: sudo to root failed: .*bnos is not in the sudoers file`));
  assert.match(f?.hint ?? '', /may not use sudo/);
  return `exit ${r.code}; ${f?.msg}; hint: ${f?.hint}`;
});

fault(
  'become_method other than sudo/su',
  'fails when a host reaches the task, naming the method; a task behind a false `when` does not',
  () => {
    const pb = writePlaybook(
      '- hosts: all\n  gather_facts: no\n  tasks:\n    - command: id\n      become: yes\n      become_method: doas\n      when: false\n    - command: id\n      become: yes\n      become_method: doas\n',
    );
    const r = orch(['run', inventoryAs('deploy', ''), pb]);
    assert.equal(r.code, 2);
    assert.equal(results(r)[0]?.status, 'skipped');
    assert.match(failed(r)?.msg ?? '', /become_method 'doas' is not supported by orch/);
    return `exit ${r.code}; ${failed(r)?.msg}`;
  },
);

test('become: clean up the users', () => {
  onHost(
    host,
    'rm -f /etc/sudoers.d/orch-become-test /tmp/orch-become-* /var/log/orch-become-sudo.log; userdel -r bnopw; userdel -r bpw; userdel -r bnos; passwd -d root >/dev/null',
  );
});
