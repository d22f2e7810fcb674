import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editBlock } from '../../src/modules/blockinfile.js';
import { planPackages } from '../../src/modules/apt.js';
import { editCron } from '../../src/modules/cron.js';
import { planFile } from '../../src/modules/file.js';
import { editLine } from '../../src/modules/lineinfile.js';
import { editFstab, planMount } from '../../src/modules/mount.js';
import { parseStat } from '../../src/modules/remote-file.js';
import { planService } from '../../src/modules/service.js';
import { editSysctlFile, normalizeSysctlValue, planSysctl } from '../../src/modules/sysctl.js';
import { shlexSplit } from '../../src/modules/shlex.js';

const base = { state: 'present', create: false, backrefs: false, firstmatch: false, path: '/f' };

test('lineinfile: add, replace, idempotent, remove, insertafter, backrefs', () => {
  assert.deepEqual(editLine({ ...base, line: 'b=2' }, 'a=1\n'), { text: 'a=1\nb=2\n', msg: 'line added' });
  assert.deepEqual(editLine({ ...base, line: 'a=9', regexp: '^a=' }, 'a=1\nb=2\n'), {
    text: 'a=9\nb=2\n',
    msg: 'line replaced',
  });
  assert.equal(editLine({ ...base, line: 'a=9', regexp: '^a=' }, 'a=9\n').text, null);
  assert.equal(editLine({ ...base, line: 'b=2' }, 'a=1\nb=2\n').text, null);
  assert.deepEqual(editLine({ ...base, state: 'absent', regexp: '^a' }, 'a=1\nab\nc\n'), {
    text: 'c\n',
    msg: '2 line(s) removed',
    extra: { found: 2 },
  });
  assert.equal(editLine({ ...base, line: 'x', insertafter: '^a' }, 'a\nb\n').text, 'a\nx\nb\n');
  assert.equal(editLine({ ...base, line: 'x', insertbefore: 'BOF' }, 'a\n').text, 'x\na\n');
  assert.equal(
    editLine({ ...base, line: 'port=\\1', regexp: '^#?port=(\\d+)', backrefs: true }, '#port=80\n').text,
    'port=80\n',
  );
  assert.throws(() => editLine({ ...base, line: 'x' }, null), /does not exist/);
  assert.equal(editLine({ ...base, line: 'x', create: true }, null).text, 'x\n');
});

test('blockinfile: insert, update, remove, custom markers', () => {
  const p = { ...base, block: 'a\nb', marker: '# {mark} ORCH', marker_begin: 'BEGIN', marker_end: 'END' };
  const ins = editBlock(p, 'top\n');
  assert.deepEqual(ins, { text: 'top\n# BEGIN ORCH\na\nb\n# END ORCH\n', msg: 'Block inserted' });
  assert.equal(editBlock(p, ins.text).text, null);
  assert.equal(editBlock({ ...p, block: 'c' }, ins.text).text, 'top\n# BEGIN ORCH\nc\n# END ORCH\n');
  assert.deepEqual(editBlock({ ...p, state: 'absent' }, ins.text), { text: 'top\n', msg: 'Block removed' });
});

test('sysctl: file edit keeps other lines, compares values with whitespace folded', () => {
  assert.equal(editSysctlFile('# c\nvm.swappiness=60\n', 'vm.swappiness', '10'), '# c\nvm.swappiness=10\n');
  assert.equal(editSysctlFile('vm.swappiness = 10\n', 'vm.swappiness', '10'), null);
  assert.equal(editSysctlFile(null, 'a.b', '1'), 'a.b=1\n');
  assert.equal(editSysctlFile('a.b=1\nc=2\n', 'a.b', undefined), 'c=2\n');
  assert.equal(normalizeSysctlValue('32768\t60999 '), '32768 60999');
  const p = {
    name: 'net.ipv4.ip_local_port_range',
    value: '1024 65000',
    state: 'present',
    sysctl_file: '/etc/sysctl.d/x.conf',
    reload: true,
    sysctl_set: false,
  };
  assert.equal(
    planSysctl(p, {
      file: { exists: true },
      text: 'net.ipv4.ip_local_port_range=1024 65000\n',
      live: '1024\t65000',
      writable: true,
    }),
    null,
  );
  const change = planSysctl(p, { file: { exists: false }, text: null, live: '32768\t60999', writable: true });
  assert.deepEqual(change?.changes, { fileText: 'net.ipv4.ip_local_port_range=1024 65000\n', setLive: true });
  assert.throws(
    () =>
      planSysctl(
        { ...p, name: 'vm.swappiness', value: '1' },
        { file: { exists: false }, text: null, live: '60', writable: false },
      ),
    /read-only/,
  );
  assert.throws(
    () =>
      planSysctl(
        { ...p, name: 'net.ipv4.tcp_tw_recycle', value: '1' },
        { file: { exists: false }, text: null, live: undefined, writable: false },
      ),
    /tcp_tw_recycle was removed/,
  );
});

test('mount: fstab entry set once, remount when options change', () => {
  const p = {
    path: '/tmp',
    src: 'tmpfs',
    fstype: 'tmpfs',
    opts: 'defaults,noatime',
    dump: '0',
    passno: '0',
    state: 'mounted',
    fstab: '/etc/fstab',
  };
  const fstab = 'UUID=x / ext4 defaults 0 1\n';
  const withEntry = editFstab(fstab, p, true);
  assert.equal(withEntry, `${fstab}tmpfs /tmp tmpfs defaults,noatime 0 0\n`);
  assert.equal(editFstab(withEntry as string, p, true), null);
  assert.equal(
    planMount(p, { fstab: withEntry as string, mounted: { source: 'tmpfs', fstype: 'tmpfs', options: 'rw,noatime' } }),
    null,
  );
  assert.equal(planMount(p, { fstab: withEntry as string, mounted: undefined })?.changes.action, 'mount');
  assert.equal(
    planMount(p, { fstab: withEntry as string, mounted: { source: 'tmpfs', fstype: 'tmpfs', options: 'rw,relatime' } })
      ?.changes.action,
    'remount',
  );
  assert.equal(editFstab(withEntry as string, p, false), fstab);
});

test('cron: named entries in cron.d and crontabs', () => {
  const p = {
    name: 'backup',
    job: 'flock -n /run/b.lock /usr/local/bin/b',
    minute: '15',
    hour: '3',
    day: '*',
    month: '*',
    weekday: '*',
    user: 'postgres',
    state: 'present',
  };
  const t = editCron('', p, true);
  assert.equal(t, '#Ansible: backup\n15 3 * * * postgres flock -n /run/b.lock /usr/local/bin/b\n');
  assert.equal(editCron(t as string, p, true), null);
  assert.equal(
    editCron(t as string, { ...p, hour: '4' }, true),
    '#Ansible: backup\n15 4 * * * postgres flock -n /run/b.lock /usr/local/bin/b\n',
  );
  assert.equal(editCron(t as string, { ...p, state: 'absent' }, true), '');
  assert.equal(
    editCron('', { ...p, special_time: 'daily' }, false),
    '#Ansible: backup\n@daily flock -n /run/b.lock /usr/local/bin/b\n',
  );
});

test('file: states and attributes', () => {
  const absent = { exists: false };
  const dir = parseStat('S|directory|755|root|root|4096\n');
  assert.deepEqual(planFile({ path: '/d', state: 'directory' }, absent)?.cmds, ['mkdir -p -- /d']);
  assert.equal(planFile({ path: '/d', state: 'directory', mode: '0755' }, dir), null);
  assert.deepEqual(planFile({ path: '/d', state: 'directory', mode: '0750', owner: 'www-data' }, dir)?.cmds, [
    'chmod 0750 -- /d',
    'chown -- www-data /d',
  ]);
  assert.equal(planFile({ path: '/d', state: 'absent' }, absent), null);
  assert.throws(() => planFile({ path: '/f', state: 'file' }, absent), /is absent/);
  const link = parseStat('S|symbolic link|777|root|root|10\nL|/srv/releases/1\n');
  assert.equal(planFile({ path: '/cur', state: 'link', src: '/srv/releases/1' }, link), null);
  assert.match(
    planFile({ path: '/cur', state: 'link', src: '/srv/releases/2' }, link)?.cmds[0] ?? '',
    /mktemp -d "\$\(dirname -- \/cur\)\/.orch-tmp.XXXXXX"\) && ln -s -- \/srv\/releases\/2 "\$d\/l" && mv -Tf -- "\$d\/l" \/cur/,
  );
});

test('apt: only missing packages are installed', () => {
  const s = { installed: new Map([['curl', '7.88']]), upgradable: new Set<string>() };
  assert.equal(planPackages({ name: ['curl'], state: 'present' }, s), null);
  assert.deepEqual(planPackages({ name: ['curl', 'jq'], state: 'present' }, s)?.changes, {
    install: ['jq'],
    remove: [],
    update: false,
    autoremove: false,
  });
  assert.deepEqual(planPackages({ name: ['curl'], state: 'absent' }, s)?.changes, {
    install: [],
    remove: ['curl'],
    update: false,
    autoremove: false,
  });
});

test('apt: update_cache alone updates; cache_valid_time skips a cache younger than it (as Ansible)', () => {
  const s = { installed: new Map([['curl', '7.88']]), upgradable: new Set<string>(), cacheTime: 1000, now: 1500 };
  assert.deepEqual(planPackages({ update_cache: true, state: 'present' }, s)?.changes, {
    install: [],
    remove: [],
    update: true,
    autoremove: false,
  });
  assert.equal(planPackages({ update_cache: true, cache_valid_time: 3600, state: 'present' }, s), null);
  assert.equal(planPackages({ name: ['curl'], update_cache: true, cache_valid_time: 600, state: 'present' }, s), null);
  assert.equal(planPackages({ update_cache: true, cache_valid_time: 400, state: 'present' }, s)?.changes.update, true);
  // cache_valid_time alone implies update_cache (Ansible: `if p['update_cache'] or p['cache_valid_time']`)
  assert.equal(planPackages({ cache_valid_time: 400, state: 'present' }, s)?.changes.update, true);
  assert.equal(planPackages({ update_cache: false, state: 'present' }, s), null);
});

test('apt: autoremove alone runs only when apt would remove something', () => {
  const s = { installed: new Map(), upgradable: new Set<string>() };
  assert.equal(planPackages({ autoremove: true, state: 'present' }, { ...s, autoremovable: 0 }), null);
  assert.deepEqual(planPackages({ autoremove: true, state: 'present' }, { ...s, autoremovable: 2 })?.changes, {
    install: [],
    remove: [],
    update: false,
    autoremove: true,
  });
});

test('service: start only when stopped; reload never restarts', () => {
  const running = { init: 'sysv' as const, exists: true, running: true, enabled: true };
  assert.equal(planService({ name: 'x', state: 'started' }, running), null);
  assert.equal(planService({ name: 'x', state: 'reloaded' }, running)?.changes.action, 'reload');
  assert.equal(planService({ name: 'x', state: 'started' }, { ...running, running: false })?.changes.action, 'start');
  assert.throws(() => planService({ name: 'x', state: 'started' }, { ...running, exists: false }), /Could not find/);
});

test('shlex split like Python', () => {
  assert.deepEqual(shlexSplit(`echo "a b" 'c d' e\\ f`), ['echo', 'a b', 'c d', 'e f']);
  assert.throws(() => shlexSplit('echo "x'), /no closing quotation/);
});

test('user: generate_ssh_key makes the key once (as the user, in ~/.ssh); update_password on_create leaves a password', async () => {
  const { planUser } = await import('../../src/modules/user.js');
  const existing = {
    exists: true,
    uid: 1001,
    gid: 1001,
    group: 'app',
    groups: [],
    home: '/home/app',
    shell: '/bin/sh',
    comment: '',
    password: '!',
  };
  const withKey = { ...existing, sshKey: { path: '/home/app/.ssh/id_rsa', exists: false } };
  const plan = planUser({ name: 'app', state: 'present', generate_ssh_key: true, ssh_key_bits: 2048 }, withKey);
  assert.match(
    plan?.changes ?? '',
    /^\{ \[ -d \/home\/app\/\.ssh \] \|\| install -d -m 0700 -o app .*ssh-keygen -q -t rsa -b 2048 -N '' -f \/home\/app\/\.ssh\/id_rsa -C "ansible-generated on \$\(hostname\)" && chown -- app:/,
  );
  assert.equal(
    planUser(
      { name: 'app', state: 'present', generate_ssh_key: true },
      { ...existing, sshKey: { path: '/home/app/.ssh/id_rsa', exists: true } },
    ),
    null,
    'an existing key is kept',
  );
  assert.equal(
    planUser({ name: 'app', state: 'present', password: 'x', update_password: 'on_create' }, existing),
    null,
  );
  assert.match(
    planUser({ name: 'app', state: 'present', password: 'x' }, existing)?.changes ?? '',
    /usermod -p x -- app/,
  );
});

test('file: touch with modification_time/access_time preserve creates a missing file and leaves an existing one alone; now and timestamps set them', async () => {
  const { planFile, parseFileTime } = await import('../../src/modules/file.js');
  const existing = {
    exists: true,
    type: 'file' as const,
    mode: '0644',
    owner: 'root',
    group: 'root',
    umask: 0o022,
    details: {
      atime: 100,
      mtime: 200,
      ctime: 0,
      dev: 0,
      inode: 0,
      nlink: 1,
      blocks: 0,
      blockSize: 4096,
      rdev: 0,
      rawMode: 0o100644,
      readable: true,
      writeable: true,
      executable: false,
    },
  };
  const preserve = { path: '/f', state: 'touch', modification_time: 'preserve', access_time: 'preserve' };
  assert.deepEqual(planFile(preserve, { exists: false, umask: 0o022 })?.cmds, ['touch -- /f']);
  assert.equal(planFile(preserve, existing), null, 'converged: nothing to do');
  assert.deepEqual(
    planFile({ path: '/f', state: 'touch' }, existing)?.cmds,
    ['touch -m -- /f', 'touch -a -- /f'],
    'touch defaults to now: always a change, as Ansible',
  );
  const epoch = parseFileTime('202601021530.45', '%Y%m%d%H%M.%S');
  assert.equal(epoch, new Date(2026, 0, 2, 15, 30, 45).getTime() / 1000);
  assert.deepEqual(planFile({ path: '/f', state: 'file', modification_time: '202601021530.45' }, existing)?.cmds, [
    `touch -m -d @${epoch} -- /f`,
  ]);
  assert.equal(
    planFile(
      { path: '/f', state: 'file', modification_time: '202601021530.45' },
      { ...existing, details: { ...existing.details, mtime: epoch } },
    ),
    null,
  );
  assert.throws(() => parseFileTime('yesterday', '%Y%m%d%H%M.%S'), /does not match format/);
});

test('lineinfile and blockinfile: Python inline flags, empty-regexp warning, Ansible blockinfile messages', () => {
  assert.equal(editLine({ ...base, line: 'a=3', regexp: '(?i)^A=' }, 'a=1\n').msg, 'line replaced');
  assert.match(
    editLine({ ...base, line: 'd=1', regexp: '' }, 'a=1\n').warnings?.[0] ?? '',
    /regular expression is an empty string/,
  );
  assert.equal(editBlock({ path: '/x', block: 'k', create: true }, null).msg, 'File created');
  const withBlock = editBlock({ path: '/x', block: 'k' }, 'a\n').text ?? '';
  assert.equal(editBlock({ path: '/x', block: 'k2' }, withBlock).msg, 'Block inserted');
  assert.equal(editBlock({ path: '/x', state: 'absent' }, withBlock).msg, 'Block removed');
});
