import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fault } from '../helpers/faults.js';
import {
  addressOf,
  apply,
  HOSTS,
  INVENTORY,
  onHost,
  orch,
  orchBackground,
  results,
  totalChanged,
  writePlaybook,
  ROOT,
} from '../helpers/lab.js';

const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';

function inventoryWith(extra: string, vars = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-inv-'));
  const text = readFileSync(INVENTORY, 'utf8')
    .replace('[all:vars]', `${vars}\n[all:vars]`)
    .replace('[lab]', `[lab]\n${extra}`);
  const p = join(dir, 'hosts');
  writeFileSync(p, text);
  return p;
}

const simple = writePlaybook(`
- hosts: all
  become: yes
  tasks:
    - file: path=/srv/orch-e2e state=directory
    - copy: dest=/srv/orch-e2e/host content="{{ inventory_hostname }} {{ ansible_distribution }}\\n"
    - sysctl: name=net.ipv4.tcp_fin_timeout value=17 sysctl_file=/etc/sysctl.d/61-orch-e2e.conf
`);

test('check mode on fresh hosts changes nothing; apply converges; second run changed=0 everywhere', () => {
  for (const h of HOSTS)
    onHost(h, 'rm -rf /srv/orch-e2e /etc/sysctl.d/61-orch-e2e.conf; echo 60 > /proc/sys/net/ipv4/tcp_fin_timeout');
  const check = apply(simple, ['--check']);
  assert.equal(check.code, 0, check.stderr);
  assert.ok(totalChanged(check.recap) > 0, 'check mode reports what would change');
  for (const h of HOSTS) {
    assert.equal(onHost(h, 'test -e /srv/orch-e2e && echo yes || echo no').stdout.trim(), 'no');
    assert.equal(onHost(h, 'sysctl -n net.ipv4.tcp_fin_timeout').stdout.trim(), '60');
  }
  const first = apply(simple);
  assert.equal(first.code, 0);
  assert.equal(totalChanged(first.recap), HOSTS.length * 3);
  const second = apply(simple);
  assert.equal(second.code, 0);
  assert.equal(totalChanged(second.recap), 0);
  for (const h of HOSTS) {
    assert.equal(onHost(h, 'cat /srv/orch-e2e/host').stdout, `${h} Debian\n`);
    assert.equal(onHost(h, 'sysctl -n net.ipv4.tcp_fin_timeout').stdout.trim(), '17');
  }
});

test('line output: plain lines, no escape codes, a recap', () => {
  const r = orch(['run', INVENTORY, simple], { json: false });
  assert.equal(r.code, 0);
  assert.doesNotMatch(r.stdout, /\x1b\[/);
  assert.match(r.stdout, new RegExp(`^ok: \\[${HOSTS[0]}\\] file$`, 'm'));
  assert.match(r.stdout, /PLAY RECAP/);
  assert.match(r.stdout, new RegExp(`${HOSTS[0]}\\s+: ok=4 {2}changed=0`));
});

test('--limit and --tags select hosts and tasks; -e overrides vars', () => {
  const pb = writePlaybook(`
- hosts: all
  gather_facts: no
  vars: { word: play }
  tasks:
    - debug: msg="first {{ word }}"
      tags: [one]
    - debug: msg="second"
      tags: [two]
`);
  const r = apply(pb, ['--limit', HOSTS[0] as string, '--tags', 'one', '-e', 'word=extra']);
  assert.equal(r.code, 0);
  const res = results(r);
  assert.deepEqual(
    res.map((x) => `${x.host}:${x.msg}`),
    [`${HOSTS[0]}:first extra`],
  );
});

fault(
  'unreachable host: reported, the others go on, exit 3',
  'exit 3; the host named with the address; the other hosts finish',
  () => {
    const inv = inventoryWith('ghost ansible_host=10.214.0.250');
    const r = orch(['run', inv, simple, '--connect-timeout', '2']);
    assert.equal(r.code, 3);
    const ghost = results(r).find((x) => x.host === 'ghost');
    assert.equal(ghost?.status, 'unreachable');
    assert.match(ghost?.msg ?? '', /ghost: cannot connect to 10\.214\.0\.250:22/);
    const recap = r.events.find((e) => e.type === 'recap');
    assert.ok(recap?.type === 'recap' && recap.stats[HOSTS[0] as string]?.ok === 4, 'reachable hosts completed');
    return `exit ${r.code}; ${ghost?.status}: ${ghost?.msg}; reachable hosts completed`;
  },
);

fault(
  'unknown host key: refused by default; --accept-new-host-keys records it',
  'refused (exit 3) with a hint; --accept-new-host-keys records it; trusted after',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-kh-'));
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, '');
    const inv = inventoryWith('', `[lab:vars]\norch_known_hosts_file=${kh}\n`);
    const pb = writePlaybook(`- hosts: ${HOSTS[0]}\n  gather_facts: no\n  tasks:\n    - command: id\n`);
    const refused = orch(['run', inv, pb]);
    assert.equal(refused.code, 3);
    assert.match(
      results(refused)[0]?.msg ?? '',
      new RegExp(`unknown host key for ${addressOf(HOSTS[0] as string).replaceAll('.', '\\.')} `),
    );
    assert.match(results(refused)[0]?.hint ?? '', /--accept-new-host-keys/);
    const accepted = orch(['run', inv, pb, '--accept-new-host-keys']);
    assert.equal(accepted.code, 0, accepted.stdout);
    assert.match(
      readFileSync(kh, 'utf8'),
      new RegExp(`^${addressOf(HOSTS[0] as string).replaceAll('.', '\\.')} ssh-ed25519 `, 'm'),
    );
    assert.equal(orch(['run', inv, pb]).code, 0, 'recorded key is trusted next time');
    return `exit ${refused.code}; ${results(refused)[0]?.msg}; hint: ${results(refused)[0]?.hint}; with --accept-new-host-keys: exit 0, key recorded`;
  },
);

fault(
  'changed host key: refused loudly, always (even with --accept-new-host-keys)',
  'refused even with --accept-new-host-keys, exit 3, ssh-keygen -R hint',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-kh-'));
    const kh = join(dir, 'known_hosts');
    const other = readFileSync(join(LAB_DIR, 'keys', `${HOSTS[1]}.pub`), 'utf8')
      .split(' ')
      .slice(0, 2)
      .join(' ');
    writeFileSync(kh, `${addressOf(HOSTS[0] as string)} ${other}\n`);
    const inv = inventoryWith('', `[lab:vars]\norch_known_hosts_file=${kh}\n`);
    const pb = writePlaybook(`- hosts: ${HOSTS[0]}\n  gather_facts: no\n  tasks:\n    - command: id\n`);
    const r = orch(['run', inv, pb, '--accept-new-host-keys']);
    assert.equal(r.code, 3);
    assert.match(results(r)[0]?.msg ?? '', /REMOTE HOST KEY CHANGED/);
    assert.match(results(r)[0]?.hint ?? '', /ssh-keygen -R/);
    return `exit ${r.code}; ${(results(r)[0]?.msg ?? '').split('\n')[0]}; hint: ${results(r)[0]?.hint}`;
  },
);

fault(
  'wrong private key: authentication failure names the user and key',
  'exit 3, authentication failed naming user and keys',
  () => {
    const inv = inventoryWith(
      '',
      `[lab:vars]\nansible_ssh_private_key_file=${join(LAB_DIR, 'keys', HOSTS[0] as string)}\n`,
    );
    const pb = writePlaybook(`- hosts: ${HOSTS[0]}\n  gather_facts: no\n  tasks:\n    - command: id\n`);
    const r = orch(['run', inv, pb], { env: { SSH_AUTH_SOCK: '' } });
    assert.equal(r.code, 3);
    assert.match(results(r)[0]?.msg ?? '', /authentication failed/);
    assert.match(results(r)[0]?.hint ?? '', /ansible_user \(deploy\)/);
    return `exit ${r.code}; ${results(r)[0]?.msg}; hint: ${results(r)[0]?.hint}`;
  },
);

fault(
  'an undefined name a run surely reaches is refused before connecting; the tasks before it never run',
  'exit 4 naming the variable and the task file:line; nothing ran on the host',
  () => {
    const pb = writePlaybook(
      `- hosts: ${HOSTS[0]}\n  gather_facts: no\n  tasks:\n    - file: path=/tmp/orch-before state=touch\n    - copy: dest=/tmp/orch-undef content="{{ not_defined_anywhere }}"\n`,
    );
    onHost(HOSTS[0] as string, 'rm -f /tmp/orch-undef /tmp/orch-before');
    const r = apply(pb);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /playbook\.yml:5.*'not_defined_anywhere' is undefined/);
    assert.equal(r.events.filter((e) => e.type === 'task_start').length, 0);
    assert.equal(
      onHost(HOSTS[0] as string, 'ls /tmp/orch-undef /tmp/orch-before 2>/dev/null | wc -l').stdout.trim(),
      '0',
    );
    return `exit ${r.code}; ${r.stderr.trim().split('\n')[0]?.replace(/.*\//, '')}; nothing ran`;
  },
);

fault(
  'runtime errors: undefined variable names the variable and the task line; nothing after runs',
  'exit 2, names the variable and the task file:line; later tasks not run',
  () => {
    // behind a condition, the check before the run lets it through (the condition might be false): it fails when
    // reached
    const pb = writePlaybook(
      `- hosts: ${HOSTS[0]}\n  gather_facts: no\n  tasks:\n    - name: uses x\n      copy: dest=/tmp/orch-undef content="{{ not_defined_anywhere }}"\n      when: inventory_hostname != 'elsewhere'\n    - file: path=/tmp/orch-after state=touch\n`,
    );
    onHost(HOSTS[0] as string, 'rm -f /tmp/orch-undef /tmp/orch-after');
    const r = apply(pb);
    assert.equal(r.code, 2);
    const f = results(r)[0];
    assert.match(f?.msg ?? '', /'not_defined_anywhere' is undefined/);
    assert.match(f?.at ?? '', /playbook\.yml:4$/);
    assert.equal(
      onHost(HOSTS[0] as string, 'ls /tmp/orch-undef /tmp/orch-after 2>/dev/null | wc -l').stdout.trim(),
      '0',
    );
    return `exit ${r.code}; ${f?.msg} (at ${f?.at?.replace(/.*\//, '')}); later task not run`;
  },
);

fault(
  'a second run on the same inventory is refused at once, naming the holder; the lock is released after',
  'second run exit 6 naming user@host pid and command; first finishes; lock released',
  async () => {
    const slow = writePlaybook(`- hosts: ${HOSTS[0]}\n  gather_facts: no\n  tasks:\n    - command: sleep 4\n`);
    const bg = orchBackground(['run', INVENTORY, slow]);
    let out = '';
    bg.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!out.includes('task_start') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const second = orch(['run', INVENTORY, simple], { json: false });
    assert.equal(second.code, 6);
    assert.match(second.stderr, /is locked by another run: .*@.* pid \d+ since .*\(run /);
    const code = await new Promise<number>((res) => bg.on('exit', (c) => res(c ?? -1)));
    assert.equal(code, 0);
    assert.equal(
      orch(['lock', 'status', 'inventory', '--local'], { json: false }).stdout.trim(),
      'inventory: not locked',
    );
    return `exit ${second.code}; ${second.stderr.split('\n')[0]}; first run exit ${code}; lock released`;
  },
);

fault(
  'stale lock from a killed run is detected, not stolen',
  'exit 6 "stale lock" naming the dead holder and `orch lock release`; not stolen',
  () => {
    const locks = join(ROOT, '.orch', 'locks');
    writeFileSync(
      join(locks, 'inventory.holder.json'),
      JSON.stringify({
        user: 'someone',
        host: readFileSync('/etc/hostname', 'utf8').trim(),
        pid: 999999,
        since: '2026-01-01T00:00:00Z',
        command: 'apply x',
      }),
    );
    mkdirSync(join(locks, 'inventory.lock.lock'), { recursive: true });
    const r = orch(['run', INVENTORY, simple], { json: false });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /stale lock: someone@.* pid 999999 .* is no longer running/);
    assert.match(r.stderr, /orch lock release inventory/);
    assert.match(
      orch(['lock', 'release', 'inventory', '--local'], { json: false }).stdout,
      /released lock held by someone/,
    );
    assert.equal(orch(['run', INVENTORY, simple]).code, 0);
    return `exit ${r.code}; ${r.stderr.split('\n')[0]}; after orch lock release: runs`;
  },
);

test('password login: ansible_password logs in when the key is refused (key first, as OpenSSH); a wrong one fails', () => {
  const host = HOSTS[0] as string;
  // a user of its own with a password, so the lab's deploy user stays key-only
  onHost(host, 'id orchpw >/dev/null 2>&1 || useradd -m -s /bin/sh orchpw; echo "orchpw:Pw-Login-7" | chpasswd');
  const wrongKey = join(LAB_DIR, 'keys', host);
  const pb = writePlaybook(`- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - command: id -un\n`);
  const login = (password: string) =>
    orch(
      [
        'run',
        inventoryWith(
          '',
          `[lab:vars]\nansible_user=orchpw\nansible_password=${password}\nansible_ssh_private_key_file=${wrongKey}\n`,
        ),
        pb,
      ],
      { env: { SSH_AUTH_SOCK: '' } },
    );
  const ok = login('Pw-Login-7');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(results(ok)[0]?.stdout, 'orchpw');
  const refused = login('Wrong-Pw');
  assert.equal(refused.code, 3);
  assert.match(results(refused)[0]?.msg ?? '', /authentication failed/);
});
