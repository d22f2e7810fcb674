import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planPackages } from '../../src/modules/apt.js';
import { editCron } from '../../src/modules/cron.js';
import { editFstab } from '../../src/modules/mount.js';
import { editSysctlFile, keyPath } from '../../src/modules/sysctl.js';
import { planUser } from '../../src/modules/user.js';
import { uri } from '../../src/modules/uri.js';
import { wrapCommand } from '../../src/transport/wrap.js';
import { validateCommand } from '../../src/modules/remote-file.js';

test('environment: a key that is not a shell identifier is refused, never written into `export`', () => {
  assert.throws(() => wrapCommand('true', { env: { 'A=1;touch /tmp/x;B': 'v' } }), /is not a valid variable name/);
  assert.throws(() => wrapCommand('true', { env: { '1A': 'v' } }), /is not a valid variable name/);
  assert.match(wrapCommand('true', { env: { _A1: '$(x)' } }).command, /export _A1=/);
});

test('apt: option-like and malformed package names are refused; names follow --', () => {
  const s = { installed: new Map<string, string>(), upgradable: new Set<string>() };
  for (const bad of ['-oDPkg::Pre-Invoke::=touch /tmp/x', '--help', 'a;b', 'jq\nx', 'jq $(id)']) {
    assert.throws(() => planPackages({ name: [bad], state: 'present' }, s), /is not a valid package name/, bad);
  }
  assert.deepEqual(
    planPackages(
      { name: ['jq', 'libc6:amd64', 'nginx=1.22.1-9', 'g++', 'python3-*', 'curl=7.88*'], state: 'present' },
      s,
    )?.changes.install,
    ['jq', 'libc6:amd64', 'nginx=1.22.1-9', 'g++', 'python3-*', 'curl=7.88*'],
  );
});

test('user/group: --help and other non-names are refused; the name follows --', () => {
  const none = { exists: false, groups: [] };
  for (const bad of ['--help', '-r', 'a b', 'a:b', 'x\ny', ''])
    assert.throws(
      () => planUser({ name: bad, state: 'present' }, none),
      /not a valid user or group name/,
      JSON.stringify(bad),
    );
  assert.match(planUser({ name: 'app', state: 'present' }, none)?.changes ?? '', /useradd -m +-- app$/);
});

test('cron, sysctl, fstab: a newline in a name cannot add a line; fstab fields are escaped as Ansible writes them', () => {
  assert.throws(
    () =>
      editCron(
        '',
        {
          name: 'x\n* * * * * root touch /tmp/pwned',
          job: 'true',
          minute: '*',
          hour: '*',
          day: '*',
          month: '*',
          weekday: '*',
        },
        true,
      ),
    /control characters/,
  );
  assert.throws(
    () =>
      editCron(
        '',
        {
          name: 'x',
          job: 'true',
          minute: '* * * * * root touch /tmp/p #',
          hour: '*',
          day: '*',
          month: '*',
          weekday: '*',
        },
        true,
      ),
    /one word/,
  );
  assert.throws(() => editSysctlFile('', 'net.core.somaxconn\nkernel.x', '1'), /not a valid sysctl key/);
  assert.throws(() => editSysctlFile('', 'net/../../../etc/passwd', '1'), /not a valid sysctl key/);
  assert.throws(
    () => editFstab('', { src: 'tmpfs', path: '/mnt/x\ntmpfs /etc tmpfs defaults 0 0', fstype: 'tmpfs' }, true),
    /control characters/,
  );
  assert.equal(
    editFstab('', { src: 'tmpfs', path: '/mnt/a b&c\\d', fstype: 'tmpfs' }, true),
    'tmpfs /mnt/a\\040b\\046c\\134d tmpfs defaults 0 0\n',
  );
  assert.equal(
    editFstab(
      'tmpfs\t/mnt/a\\040b\ttmpfs\tdefaults\t0\t0\n',
      { src: 'tmpfs', path: '/mnt/a b', fstype: 'tmpfs' },
      true,
    ),
    null,
  );
});

test('uri: the URL goes after --url (never read as a curl option); method and header names are single tokens', async () => {
  const ran: string[] = [];
  const ctx = {
    host: 'h',
    check: false,
    diff: false,
    run: async (c: string) => (ran.push(c), { rc: 0, stdout: '\n__orch_uri_status__200', stderr: '' }),
  } as never;
  const base = {
    method: 'GET',
    status_code: [200],
    headers: {},
    timeout: 5,
    validate_certs: true,
    follow_redirects: 'safe',
    body_format: 'raw',
  };
  await uri.run(ctx, { ...base, url: '-o/tmp/pwned-uri' });
  assert.match(ran[0] ?? '', / --url -o\/tmp\/pwned-uri$/);
  await assert.rejects(uri.run(ctx, { ...base, url: 'http://x/', method: 'GET -o /tmp/p' }), /method must be a word/);
  await assert.rejects(
    uri.run(ctx, { ...base, url: 'http://x/', headers: { 'X-A\r\nX-B': '1' } }),
    /not a valid header name/,
  );
  await assert.rejects(
    uri.run(ctx, { ...base, url: 'http://x/', headers: { 'X-A': '1\r\nX-B: 2' } }),
    /control characters/,
  );
});

test('sysctl: a key maps to its /proc/sys path as procps reads it (a slash inside a dotted key is a dot in a name)', () => {
  assert.equal(keyPath('net.ipv4.conf.all.rp_filter'), '/proc/sys/net/ipv4/conf/all/rp_filter');
  assert.equal(keyPath('net.ipv4.conf.eth0/100.rp_filter'), '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  assert.equal(keyPath('net/ipv4/conf/eth0.100/rp_filter'), '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
});

test('validate runs its words without a shell: ; | > $(…) are arguments, %s is the temp file, %% a percent', () => {
  const cmd = validateCommand('visudo -cf %s ; touch /tmp/x | cat > /tmp/y $(id)');
  assert.equal(cmd, `visudo -cf "$t" ';' touch /tmp/x '|' cat '>' /tmp/y '$(id)'`);
  assert.equal(validateCommand(`sh -c 'stat -c %%a "$1"' _ %s`), `sh -c 'stat -c %a "$1"' _ "$t"`);
  assert.equal(validateCommand('check --file=%s.new'), `check --file="$t".new`);
  assert.throws(() => validateCommand('visudo -c'), /validate must contain %s: visudo -c/);
});
