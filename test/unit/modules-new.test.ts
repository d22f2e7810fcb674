import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFindOutput, selectFound } from '../../src/modules/find.js';
import { parseGetent } from '../../src/modules/getent.js';
import { parseDpkgList } from '../../src/modules/package-facts.js';
import { expandPythonReplacement, pythonRegExp, pythonSubn } from '../../src/modules/pyregex.js';
import { replaceText } from '../../src/modules/replace.js';
import { parseServices } from '../../src/modules/service-facts.js';

test('python regexps: inline flags, named groups, \\A \\Z, verbose', () => {
  assert.ok(pythonRegExp('(?i)^listen').test('LISTEN 80'));
  assert.ok(pythonRegExp('(?m)^b$').test('a\nb\nc'));
  assert.ok(pythonRegExp('(?s)a.b').test('a\nb'));
  assert.equal(pythonRegExp('(?P<port>\\d+)-(?P=port)').exec('80-80')?.groups?.port, '80');
  assert.ok(pythonRegExp('\\Aabc\\Z').test('abc'));
  assert.ok(!pythonRegExp('\\Aabc\\Z').test('abc\n'));
  assert.ok(pythonRegExp('(?x) a b  # comment\n c').test('abc'));
  assert.throws(() => pythonRegExp('(unclosed'), /unable to compile the regular expression '\(unclosed'/);
});

test('python re.sub replacements: \\1, \\g<name>, escapes', () => {
  assert.equal(expandPythonReplacement('x\\1-\\g<2>\\n', ['ab', 'a', 'b']), 'xa-b\n');
  assert.deepEqual(pythonSubn('^(\\w+)=(?P<v>.*)$', '\\1: \\g<v>', 'a=1\nb=2\n'), ['a: 1\nb: 2\n', 2]);
});

test('replace: count and message as Ansible, sections by after/before, missing file rc 257', () => {
  const text = 'listen 80\nserver one\n# end\nserver one\n';
  assert.deepEqual(replaceText({ path: '/f', regexp: 'one', replace: 'two' }, text), {
    text: 'listen 80\nserver two\n# end\nserver two\n',
    msg: '2 replacements made',
  });
  assert.deepEqual(replaceText({ path: '/f', regexp: 'one', replace: 'two', before: '# end' }, text), {
    text: 'listen 80\nserver two\n# end\nserver one\n',
    msg: '1 replacements made',
  });
  assert.deepEqual(replaceText({ path: '/f', regexp: 'one', replace: 'two', after: '# end' }, text), {
    text: 'listen 80\nserver one\n# end\nserver two\n',
    msg: '1 replacements made',
  });
  assert.deepEqual(replaceText({ path: '/f', regexp: 'nothing', replace: 'x' }, text), { text: null, msg: '' });
  assert.deepEqual(
    replaceText({ path: '/f', regexp: 'one', replace: 'one' }, text),
    { text: null, msg: '' },
    'same text: not changed',
  );
  assert.throws(() => replaceText({ path: '/f', regexp: 'x' }, null), /Path \/f does not exist !/);
});

const rec = (type: string, mode: string, size: number, mtime: number, path: string) =>
  [
    type,
    mode,
    String(size),
    '0',
    '0',
    'root',
    'root',
    String(mtime),
    String(mtime),
    String(mtime),
    '1',
    '2',
    '1',
    path,
  ].join('\0') + '\0';

test('find: GNU find records parsed; patterns, excludes, hidden, type, age and size as Ansible filters', () => {
  const now = 1_000_000;
  const found = parseFindOutput(
    rec('f', '644', 10, now - 100, '/d/a.conf') +
      rec('f', '600', 5000, now - 10 * 86400, '/d/b.log') +
      rec('f', '644', 1, now, '/d/.h.conf') +
      rec('d', '755', 4096, now, '/d/sub') +
      rec('l', '777', 7, now, '/d/link.conf'),
  );
  assert.equal(found.length, 5);
  assert.equal(found[0]?.mode, 0o644);
  const names = (p: Record<string, unknown>) => selectFound(found, p, now).map((x) => x.path);
  assert.deepEqual(names({}), ['/d/a.conf', '/d/b.log']);
  assert.deepEqual(names({ patterns: ['*.conf'] }), ['/d/a.conf']);
  assert.deepEqual(names({ patterns: ['*.conf'], hidden: true }), ['/d/a.conf', '/d/.h.conf']);
  assert.deepEqual(names({ excludes: ['*.log'] }), ['/d/a.conf']);
  assert.deepEqual(names({ file_type: 'any', patterns: ['*.conf'] }), ['/d/a.conf', '/d/link.conf']);
  assert.deepEqual(names({ file_type: 'directory' }), ['/d/sub']);
  assert.deepEqual(names({ age: '1d' }), ['/d/b.log'], 'older than a day');
  assert.deepEqual(names({ age: '-1h' }), ['/d/a.conf'], 'younger than an hour');
  assert.deepEqual(names({ size: '1k' }), ['/d/b.log']);
  assert.deepEqual(names({ size: '-100' }), ['/d/a.conf']);
  assert.deepEqual(names({ patterns: ['^[ab]\\.'], use_regex: true }), ['/d/a.conf', '/d/b.log']);
  assert.throws(() => selectFound(found, { age: 'old' }, now), /failed to process age 'old'/);
});

test('getent: fields by key, whitespace databases, repeated keys', () => {
  assert.deepEqual(parseGetent('root:x:0:0:root:/root:/bin/bash\n', 'passwd'), {
    root: ['x', '0', '0', 'root', '/root', '/bin/bash'],
  });
  assert.deepEqual(parseGetent('127.0.0.1       localhost\n::1 localhost ip6-localhost\n', 'hosts'), {
    '127.0.0.1': ['localhost'],
    '::1': ['localhost', 'ip6-localhost'],
  });
  assert.deepEqual(parseGetent('a:1\na:2\n', 'group'), { a: [['1'], ['2']] });
});

test('package_facts: installed packages from dpkg-query, multiarch names', () => {
  const p = parseDpkgList(
    'installed\tbash\t5.2.15-2+b8\tamd64\tshells\nconfig-files\told\t1\tamd64\tmisc\ninstalled\tlibc6:amd64\t2.36\tamd64\tlibs\ninstalled\tlibc6:i386\t2.36\ti386\tlibs\n',
  );
  assert.deepEqual(p.bash, [
    { name: 'bash', version: '5.2.15-2+b8', arch: 'amd64', category: 'shells', origin: '', source: 'apt' },
  ]);
  assert.equal(p.old, undefined, 'removed packages are not listed');
  assert.equal(p.libc6?.length, 2);
});

test('service_facts: sysv status lines and systemd units', () => {
  assert.deepEqual(parseServices('@sysv\n [ + ]  cron\n [ - ]  haproxy\n [ ? ]  hwclock.sh\n'), {
    cron: { name: 'cron', state: 'running', source: 'sysv' },
    haproxy: { name: 'haproxy', state: 'stopped', source: 'sysv' },
    'hwclock.sh': { name: 'hwclock.sh', state: 'unknown', source: 'sysv' },
  });
  const s = parseServices(
    '@systemd\ncron.service loaded active running Regular background\nssh.service loaded failed failed OpenBSD\n@files\ncron.service enabled enabled\nssh.service enabled enabled\nrsync.service disabled enabled\n',
  );
  assert.deepEqual(s['cron.service'], { name: 'cron.service', state: 'running', status: 'enabled', source: 'systemd' });
  assert.equal(s['ssh.service']?.state, 'failed');
  assert.deepEqual(s['rsync.service'], {
    name: 'rsync.service',
    state: 'stopped',
    status: 'disabled',
    source: 'systemd',
  });
});

test('openssh_keypair: ssh-keygen -l parsed; regenerate as community.crypto decides it', async () => {
  const { parseKeygenList, keepKey } = await import('../../src/modules/openssh-keypair.js');
  assert.deepEqual(parseKeygenList('4096 SHA256:abc root@h (RSA)'), {
    size: 4096,
    fingerprint: 'SHA256:abc',
    comment: 'root@h',
    type: 'rsa',
  });
  const rsa4096 = { exists: true, size: 4096, type: 'rsa', comment: 'x' };
  assert.equal(keepKey({ type: 'rsa' }, rsa4096), true, 'default rsa size is 4096');
  assert.equal(keepKey({ type: 'rsa', size: 2048 }, rsa4096), false);
  assert.equal(keepKey({ type: 'rsa', size: 2048, regenerate: 'never' }, rsa4096), true);
  assert.equal(keepKey({ type: 'rsa', force: true }, rsa4096), false);
  assert.throws(() => keepKey({ type: 'ed25519', regenerate: 'fail' }, rsa4096), /wrong type and\/or size/);
});

test("pamd absent: matching rules removed, the others written in pamd's layout, Ansible's mark on line 2", async () => {
  const { pamdRemove } = await import('../../src/modules/pamd.js');
  const text =
    '# PAM configuration for sshd\n@include common-auth\nsession    optional     pam_motd.so  motd=/run/motd.dynamic\nsession    optional     pam_motd.so noupdate\nsession [success=ok ignore=ignore module_unknown=ignore default=bad]        pam_selinux.so close\naccount  required pam_nologin.so\n';
  const r = pamdRemove(text, 'session', 'optional', 'pam_motd.so', '2026-11-26T03:00:00.000000');
  assert.equal(r.changes, 2);
  assert.equal(
    r.text,
    '# PAM configuration for sshd\n# Updated by Ansible - 2026-11-26T03:00:00.000000\n@include common-auth\nsession    [success=ok ignore=ignore module_unknown=ignore default=bad] pam_selinux.so close\naccount    required pam_nologin.so\n',
  );
});

test('pamd before/after/args_present as community.general.pamd: comments between the neighbouring rules dropped, arguments added and changed in place', async () => {
  const { pamdEdit } = await import('../../src/modules/pamd.js');
  const text =
    '# head\nauth [success=1 default=ignore] pam_unix.so nullok\n# between\n\nauth requisite pam_deny.so\nauth required pam_permit.so minlen=8\n# tail\n';
  const now = 'NOW';
  const before = pamdEdit(
    text,
    {
      state: 'before',
      type: 'auth',
      control: 'requisite',
      module_path: 'pam_deny.so',
      new_type: 'auth',
      new_control: 'required',
      new_module_path: 'pam_faillock.so',
      module_arguments: ['preauth'],
    },
    now,
  );
  assert.equal(before.changes, 1);
  assert.equal(
    before.text,
    '# head\n# Updated by Ansible - NOW\nauth       [success=1 default=ignore] pam_unix.so nullok\nauth       required pam_faillock.so preauth\nauth       requisite pam_deny.so\nauth       required pam_permit.so minlen=8\n# tail\n',
  );
  const after = pamdEdit(
    text,
    {
      state: 'after',
      type: 'auth',
      control: 'required',
      module_path: 'pam_permit.so',
      new_type: 'account',
      new_control: 'required',
      new_module_path: 'pam_x.so',
    },
    now,
  );
  assert.ok(
    after.text.endsWith('auth       required pam_permit.so minlen=8\naccount    required pam_x.so\n'),
    'appended after the last rule; the trailing comment is dropped, as pamd does',
  );
  const args = pamdEdit(
    text,
    {
      state: 'args_present',
      type: 'auth',
      control: 'required',
      module_path: 'pam_permit.so',
      module_arguments: ['minlen=12', 'debug'],
    },
    now,
  );
  assert.match(args.text, /^auth {7}required pam_permit\.so minlen=12 debug$/m);
  assert.equal(
    pamdEdit(
      args.text,
      {
        state: 'args_present',
        type: 'auth',
        control: 'required',
        module_path: 'pam_permit.so',
        module_arguments: ['minlen=12', 'debug'],
      },
      now,
    ).changes,
    0,
  );
  assert.throws(
    () =>
      pamdEdit(
        text,
        { state: 'updated', type: 'auth', control: 'requisite', module_path: 'pam_deny.so', new_control: 'sometimes' },
        now,
      ),
    /Rule control, sometimes, is not valid in rule auth {7}sometimes pam_deny\.so/,
  );
});
