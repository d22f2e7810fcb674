import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fault } from '../helpers/faults.js';
import { HOSTS, INVENTORY, onHost, orch, writePlaybook } from '../helpers/lab.js';

// Secrets never reach an output: stdout (json and lines), the --log file, the run log in .orch/runs.
// Each run gets its own working directory so its .orch/runs holds only its own log.
const host = HOSTS[0] as string;
const PASSWORD = 'Plain-Become-Pw-4711';

function inventoryWith(hostVars: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-inv-'));
  const text = readFileSync(INVENTORY, 'utf8').replace(new RegExp(`^${host} .*$`, 'm'), (l) => `${l} ${hostVars}`);
  writeFileSync(join(dir, 'hosts'), text);
  return join(dir, 'hosts');
}

/** Everything a run wrote, in every output form: json stdout, lines stdout, --log files, .orch/runs logs. */
function allOutputs(
  inventory: string,
  playbook: string,
  extra: string[] = [],
  prepare = () => {},
): { text: string; codes: number[] } {
  const texts: string[] = [];
  const codes: number[] = [];
  for (const json of [true, false]) {
    prepare();
    const cwd = mkdtempSync(join(tmpdir(), 'orch-cwd-'));
    const log = join(cwd, 'run.log');
    const r = orch(['run', inventory, playbook, '--diff', '--log', log, ...extra], { cwd, json });
    codes.push(r.code);
    texts.push(r.stdout, r.stderr, readFileSync(log, 'utf8'));
    const runs = join(cwd, '.orch', 'runs');
    const files = readdirSync(runs);
    assert.ok(files.length > 0, 'a run log was written');
    for (const f of files) texts.push(readFileSync(join(runs, f), 'utf8'));
    // diffs show file contents: the logs are for their owner only
    for (const f of [log, ...files.map((f) => join(runs, f))])
      assert.equal(statSync(f).mode & 0o777, 0o600, `${f} is private`);
  }
  return { text: texts.join('\n'), codes };
}

fault(
  'a plain-text ansible_become_password in inventory never reaches an output',
  'not in json or line stdout, --log file, .orch/runs (a failure message and a --diff that contain it)',
  () => {
    const inv = inventoryWith(`ansible_become_password=${PASSWORD}`);
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - copy:\n        dest: /tmp/orch-secret-diff.txt\n        content: "pw={{ ansible_become_password }}\\n"\n    - fail:\n        msg: "the password is {{ ansible_become_password }}"\n`,
    );
    const { text, codes } = allOutputs(inv, pb, [], () => onHost(host, 'rm -f /tmp/orch-secret-diff.txt'));
    assert.deepEqual(codes, [2, 2]);
    assert.equal(
      onHost(host, 'cat /tmp/orch-secret-diff.txt').stdout,
      `pw=${PASSWORD}\n`,
      'the file holds the password (the task used it)',
    );
    assert.match(text, /the password is \*{8}/, 'the failure message is shown, redacted');
    assert.match(text, /"after":"pw=\*{8}\\n"/, 'the diff is shown, redacted (json)');
    assert.match(text, /^\+pw=\*{8}$/m, 'the diff is shown, redacted (lines)');
    assert.ok(!text.includes(PASSWORD), 'the password appears in an output');
    return 'failure message and diff shown with ******** in json, lines, --log and .orch/runs; password nowhere';
  },
);

fault('orch inventory --host and --list show a password variable as ********', 'the value in neither output', () => {
  const inv = inventoryWith(`ansible_become_password=${PASSWORD}`);
  writeFileSync(inv, readFileSync(inv, 'utf8').replace('[all:vars]', `[all:vars]\nansible_password=${PASSWORD}-group`));
  const host1 = orch(['inventory', inv, '--host', host], { json: false });
  const list = orch(['inventory', inv, '--list'], { json: false });
  assert.equal(host1.code, 0, host1.stderr);
  assert.match(host1.stdout, /"ansible_become_password": "\*{8}"/);
  assert.match(list.stdout, /"ansible_password": "\*{8}"/);
  assert.ok(!`${host1.stdout}${list.stdout}`.includes(PASSWORD));
  return '--host and --list: ********';
});

fault(
  'the other password variables (ansible_password, ansible_ssh_pass, ansible_become_pass, ansible_sudo_pass, -e) are redacted',
  'none of the values in any output',
  () => {
    const values = {
      ansible_password: 'Conn-Pw-Value-1',
      ansible_ssh_pass: 'Ssh-Pass-Value-2',
      ansible_become_pass: 'Become-Pass-Value-3',
      ansible_sudo_pass: 'Sudo-Pass-Value-4',
    };
    // ansible_password/ansible_ssh_pass are only tried after the key (the lab's key works)
    const inv = inventoryWith(
      Object.entries(values)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - debug:\n        msg: "{{ ansible_password }} {{ ansible_ssh_pass }} {{ ansible_become_pass }} {{ ansible_sudo_pass }} {{ ansible_become_password }}"\n`,
    );
    const { text, codes } = allOutputs(inv, pb, ['-e', 'ansible_become_password=Extra-Var-Value-5']);
    assert.deepEqual(codes, [0, 0]);
    for (const v of [...Object.values(values), 'Extra-Var-Value-5'])
      assert.ok(!text.includes(v), `${v} appears in an output`);
    return 'all five values redacted';
  },
);

fault(
  'a no_log parameter (user: password=) is redacted wherever it shows (loop item labels, results)',
  'the hash appears in no output',
  () => {
    const hash = '$6$orchsalt$NoLogHashValueForTheTest';
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  become: yes\n  tasks:\n    - user:\n        name: "{{ item.name }}"\n        password: "{{ item.pw }}"\n      loop:\n        - { name: orch-nolog, pw: '${hash}' }\n`,
    );
    const { text, codes } = allOutputs(INVENTORY, pb, [], () => onHost(host, 'userdel orch-nolog 2>/dev/null; true'));
    assert.deepEqual(codes, [0, 0]);
    assert.equal(onHost(host, 'getent shadow orch-nolog | cut -d: -f2').stdout.trim(), hash, 'the password was set');
    assert.match(text, /orch-nolog/, 'the item is shown');
    assert.ok(!text.includes(hash) && !text.includes('NoLogHashValueForTheTest'), 'the hash appears in an output');
    return 'user created with the hash; item label shows the name, the hash as ********';
  },
);

fault(
  'copy onto a symlink to /etc/shadow with --diff shows no shadow line; the link is replaced (follow=no)',
  'no line of /etc/shadow in any output; /etc/shadow unchanged; dest is now a regular file',
  () => {
    onHost(
      host,
      'useradd orch-shadowprobe 2>/dev/null; echo "orch-shadowprobe:ShadowSecretLine" | chpasswd -e; rm -f /tmp/orch-shadow-link; ln -s /etc/shadow /tmp/orch-shadow-link',
    );
    const shadowBefore = onHost(host, 'cat /etc/shadow').stdout;
    assert.match(shadowBefore, /ShadowSecretLine/);
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  become: yes\n  tasks:\n    - copy:\n        dest: /tmp/orch-shadow-link\n        content: "replaced\\n"\n`,
    );
    const { text, codes } = allOutputs(INVENTORY, pb, ['--check']);
    assert.deepEqual(codes, [0, 0]);
    for (const line of shadowBefore.split('\n').filter((l) => l.trim()))
      assert.ok(!text.includes(line), `a line of /etc/shadow in an output: ${line.split(':')[0]}`);
    assert.ok(!text.includes('ShadowSecretLine'));
    assert.match(text, /link to \/etc\/shadow/, 'the diff says the link is replaced');
    // and for real: the link becomes a file; /etc/shadow is untouched
    const r = orch(['run', INVENTORY, pb, '--diff']);
    assert.equal(r.code, 0);
    assert.ok(!r.stdout.includes('ShadowSecretLine'));
    assert.equal(onHost(host, 'cat /etc/shadow').stdout, shadowBefore);
    assert.equal(
      onHost(host, 'stat -c %F /tmp/orch-shadow-link; cat /tmp/orch-shadow-link').stdout,
      'regular file\nreplaced\n',
    );
    assert.equal(
      orch(['run', INVENTORY, pb]).events.filter((e) => e.type === 'host_result' && e.status === 'changed').length,
      0,
      'second run: ok',
    );
    return 'check+diff: "link to /etc/shadow" → file, no shadow line; apply: link replaced by the file, /etc/shadow untouched; second run ok';
  },
);

fault(
  'copy follow=yes through a symlink writes the file it points to and keeps the link',
  'target written, link kept, second run ok',
  () => {
    onHost(
      host,
      'rm -rf /tmp/orch-follow && mkdir -p /tmp/orch-follow && echo old > /tmp/orch-follow/target && ln -s target /tmp/orch-follow/link',
    );
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  become: yes\n  tasks:\n    - copy:\n        dest: /tmp/orch-follow/link\n        content: "new\\n"\n        follow: yes\n`,
    );
    const r = orch(['run', INVENTORY, pb, '--diff']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(onHost(host, 'readlink /tmp/orch-follow/link; cat /tmp/orch-follow/target').stdout, 'target\nnew\n');
    assert.equal(
      orch(['run', INVENTORY, pb]).events.filter((e) => e.type === 'host_result' && e.status === 'changed').length,
      0,
    );
    return 'target written through the link; link kept; second run ok';
  },
);

fault(
  'copy force=no with mode onto a symlink changes nothing through the link',
  'the file the link points to keeps its mode; the link stays',
  () => {
    onHost(
      host,
      'rm -rf /tmp/orch-nofollow && mkdir -p /tmp/orch-nofollow && echo secret > /tmp/orch-nofollow/target && chmod 0600 /tmp/orch-nofollow/target && ln -s target /tmp/orch-nofollow/link',
    );
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  become: yes\n  tasks:\n    - copy:\n        dest: /tmp/orch-nofollow/link\n        content: "other\\n"\n        force: no\n        mode: "0644"\n`,
    );
    const r = orch(['run', INVENTORY, pb, '--diff']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      onHost(
        host,
        'stat -c %a /tmp/orch-nofollow/target; readlink /tmp/orch-nofollow/link; cat /tmp/orch-nofollow/target',
      ).stdout,
      '600\ntarget\nsecret\n',
    );
    return 'target still 0600 with its content; link kept';
  },
);
