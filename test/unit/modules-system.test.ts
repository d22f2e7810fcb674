import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { editIni } from '../../src/modules/ini-file.js';
import { editLimits } from '../../src/modules/pam-limits.js';
import { parseOptions, planKeys } from '../../src/modules/authorized-key.js';
import { fixCase, isAvailable, setLocaleLine } from '../../src/modules/locale-gen.js';
import { parseDebconfShow, planDebconf } from '../../src/modules/debconf.js';
import { currentValues, editTzFile } from '../../src/modules/timezone.js';
import { planHostname } from '../../src/modules/hostname.js';
import { persistentWrites } from '../../src/modules/modprobe.js';
import { parseDisplay, planAlternatives } from '../../src/modules/alternatives.js';
import { hashHostKey, planKnownHosts, searchHostKey } from '../../src/modules/known-hosts.js';
import { parsePathInfo } from '../../src/modules/path-info.js';

test('ini_file: edits as community.general 6.x (lines, spaces, sections, messages)', () => {
  const base = '# c\n\n[main]\nname=old\nport = 80\nport = 81\n\n[x]\nk = v\n';
  const rows: [Record<string, unknown>, string | null, string | null, string][] = [
    [{ section: 'main', option: 'name', value: 'new' }, base, base.replace('name=old', 'name = new'), 'option changed'],
    [{ section: 'main', option: 'name', value: 'old' }, base, base.replace('name=old', 'name = old'), 'option changed'],
    [{ section: 'main', option: 'port', value: '81' }, base, base.replace('port = 80\n', ''), 'option changed'],
    [
      { section: 'main', option: 'new', value: '1' },
      base,
      base.replace('port = 81\n', 'port = 81\nnew = 1\n'),
      'option added',
    ],
    [
      { section: null, option: 'top', value: '1', no_extra_spaces: true },
      base,
      'top=1\n# c\n\n[main]\nname=old\nport = 80\nport = 81\n\n[x]\nk = v\n',
      'option added',
    ],
    [{ section: 'y', option: 'a', value: 'b' }, base, `${base}[y]\na = b\n`, 'section and option added'],
    [{ section: 's', option: 'a', value: 'b' }, null, '\n[s]\na = b\n', 'section and option added'],
    [{ section: 'x', option: 'k', value: 'v' }, 'k=1\n[x]\nk = v', '[x]\nk = v\n'.replace(/^/, 'k=1\n'), 'OK'],
    [{ section: 'x', option: 'k', state: 'absent' }, base, base.replace('k = v\n', ''), 'option changed'],
    [{ section: 'x', state: 'absent' }, base, base.replace('[x]\nk = v\n', ''), 'section removed'],
    [{ section: 'x', option: 'f', allow_no_value: true }, base, `${base}f\n`, 'option added'],
    [
      { section: 'x', option: 'm', values: ['a', 'b'], exclusive: false },
      base,
      `${base}m = a\nm = b\n`,
      'option added',
    ],
    [{ section: 'main', option: 'name', value: 'old' }, '[main]\nname = old\n', null, 'OK'],
  ];
  for (const [params, current, text, msg] of rows) {
    const e = editIni({ path: '/f', state: 'present', ...params }, current);
    assert.deepEqual([e.text, e.result.msg], [text, msg], JSON.stringify(params));
  }
  assert.throws(
    () => editIni({ path: '/m', section: 's', option: 'o', value: 'v', create: false }, null),
    /Destination \/m does not exist!/,
  );
  assert.throws(() => editIni({ path: '/m', section: 's', option: 'o' }, ''), /must be defined if state=present/);
});

test('pam_limits: lines as community.general 6.x writes them (tabs, use_max/use_min, comment carried over)', () => {
  const base = '# l\n* soft core 0\nbob - nofile 1024 # mine\n';
  const p = { dest: '/l', domain: 'bob', limit_type: '-', limit_item: 'nofile', comment: '' };
  const rows: [Record<string, unknown>, string | null, string | null, string][] = [
    [{ value: '1024' }, base, null, 'bob - nofile 1024 # mine\n'],
    [
      { value: '2048' },
      base,
      '# l\n* soft core 0\nbob\t-\tnofile\t2048\t# mine\n\n',
      'bob\t-\tnofile\t2048\t# mine\n\n',
    ],
    [{ value: '512', use_max: true }, base, null, 'bob - nofile 1024 # mine\n'],
    [
      { value: '512', use_min: true },
      base,
      '# l\n* soft core 0\nbob\t-\tnofile\t512\t# mine\n\n',
      'bob\t-\tnofile\t512\t# mine\n\n',
    ],
    [
      { value: 'unlimited', use_max: true },
      base,
      '# l\n* soft core 0\nbob\t-\tnofile\tunlimited\t# mine\n\n',
      'bob\t-\tnofile\tunlimited\t# mine\n\n',
    ],
    [{ domain: 'al', value: '9' }, base, `${base}al\t-\tnofile\t9\t# mine\n\n`, 'al\t-\tnofile\t9\t# mine\n\n'],
    [{ domain: 'al', value: '9', comment: 'c' }, '', 'al\t-\tnofile\t9\t#c\n', 'al\t-\tnofile\t9\t#c\n'],
    [{ domain: 'al', value: '9' }, null, 'al\t-\tnofile\t9\n', 'al\t-\tnofile\t9\n'],
    [{ domain: 'al', value: '9' }, 'x y z 1', 'x y z 1al\t-\tnofile\t9\n', 'al\t-\tnofile\t9\n'],
  ];
  for (const [params, current, text, msg] of rows) {
    const e = editLimits({ ...p, ...params }, current);
    assert.deepEqual([e.text, e.result.msg], [text, msg], JSON.stringify(params));
  }
  assert.throws(
    () => editLimits({ ...p, value: 'lots' }, ''),
    /^Error: {2}Value of 'lots' for item 'nofile' is invalid/,
  );
  assert.throws(
    () => editLimits({ ...p, limit_item: 'nice', value: '30' }, ''),
    /must be a number in the range -20 to 19/,
  );
  assert.throws(
    () => editLimits({ ...p, value: '1', use_max: true, use_min: true }, ''),
    /Cannot use use_min and use_max at the same time\./,
  );
  assert.throws(
    () => editLimits({ ...p, value: '1' }, 'bob - core x\n'),
    /Invalid configuration found in '\/l'\. Value of 'x'/,
  );
});

test('authorized_key: the file re-serialised as ansible.posix 1.5 (order, options, comments, exclusive)', () => {
  const k1 = 'ssh-ed25519 AAAA1 one@x';
  const k2 = 'ssh-rsa BBBB2 two@x';
  const file = `# keep me\n${k1}\n\nfrom="a,b" ${k2}\n`;
  const rows: [Record<string, unknown>, string, string | null][] = [
    [{ key: k1 }, file, null],
    [{ key: 'ssh-ed25519   AAAA1   one@x' }, file, null],
    [{ key: 'ssh-ed25519 CCCC3' }, file, `${file}ssh-ed25519 CCCC3 \n`],
    [
      { key: 'ssh-ed25519 CCCC3', key_options: 'no-pty,command="a b"' },
      '',
      'no-pty,command="a b" ssh-ed25519 CCCC3 \n',
    ],
    [{ key: k1, comment: 'new' }, file, `# keep me\n\nfrom="a,b" ${k2}\nssh-ed25519 AAAA1 new\n`],
    [{ key: k2 }, file, `# keep me\n${k1}\n\n${k2}\n`],
    [{ key: `${k2}\n# c\n${k1}` }, file, `# keep me\n${k1}\n\n${k2}\n`],
    [{ key: k1, state: 'absent' }, file, `# keep me\n\nfrom="a,b" ${k2}\n`],
    [{ key: 'ssh-ed25519 ZZZ', state: 'absent' }, file, null],
    [{ key: k1, exclusive: true }, file, `${k1}\n`],
    [{ key: k1 }, '# a\n# a\n', `# a\n${k1}\n`],
  ];
  for (const [params, current, text] of rows)
    assert.equal(planKeys({ state: 'present', exclusive: false, ...params }, current), text, JSON.stringify(params));
  assert.throws(() => planKeys({ key: 'not a key' }, ''), /invalid key specified: not a key/);
  assert.deepEqual(parseOptions('a,b="x,y",c=1'), [
    ['a', null],
    ['b', '"x,y"'],
    ['c', '1'],
  ]);
});

test('locale_gen: /etc/locale.gen lines toggled as Ansible, names normalised as `locale -a` prints them', () => {
  const gen = '# fr_FR ISO-8859-1\n# fr_FR.UTF-8 UTF-8\n#  de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n';
  assert.equal(
    setLocaleLine(gen, 'fr_FR.UTF-8', true),
    '# fr_FR ISO-8859-1\nfr_FR.UTF-8 UTF-8\n#  de_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n',
  );
  assert.equal(
    setLocaleLine(gen, 'de_DE.UTF-8', true),
    '# fr_FR ISO-8859-1\n# fr_FR.UTF-8 UTF-8\nde_DE.UTF-8 UTF-8\nen_US.UTF-8 UTF-8\n',
  );
  assert.equal(
    setLocaleLine(gen, 'en_US.UTF-8', false),
    '# fr_FR ISO-8859-1\n# fr_FR.UTF-8 UTF-8\n#  de_DE.UTF-8 UTF-8\n# en_US.UTF-8 UTF-8\n',
  );
  assert.equal(fixCase('fr_FR.utf8'), 'fr_FR.UTF-8');
  const s = { ubuntu: false, list: gen, installed: [] };
  assert.ok(isAvailable('fr_FR', s) && isAvailable('de_DE.UTF-8', s) && !isAvailable('xx_YY.UTF-8', s));
  assert.ok(
    !isAvailable('en_US.UTF-8', { ...s, ubuntu: true, list: '# en_US.UTF-8 UTF-8\n' }),
    'Ubuntu: SUPPORTED lines are not commented',
  );
});

test('debconf: debconf-show parsed, changed only when the value differs (booleans case-folded)', () => {
  const prev = parseDebconfShow(
    '* locales/default_environment_locale: None\n  locales/locales_to_be_generated:\n  pkg/flag: false\n',
  );
  assert.deepEqual(prev, {
    'locales/default_environment_locale': 'None',
    'locales/locales_to_be_generated': '',
    'pkg/flag': 'false',
  });
  const q = (question: string, vtype: string, value: string) =>
    planDebconf({ name: 'p', question, vtype, value }, prev);
  assert.equal(q('locales/default_environment_locale', 'select', 'None'), null);
  assert.deepEqual(q('locales/default_environment_locale', 'select', 'C.UTF-8'), {
    value: 'C.UTF-8',
    current: 'C.UTF-8',
  });
  assert.equal(q('pkg/flag', 'boolean', 'False'), null, 'booleans compare lower-case');
  assert.deepEqual(q('pkg/flag', 'boolean', 'True'), { value: 'true', current: 'true' });
  assert.deepEqual(
    q('pkg/new', 'boolean', 'True'),
    { value: 'true', current: 'True' },
    'a new question: set as true, reported as given',
  );
  assert.equal(planDebconf({ name: 'p' }, prev), null);
  assert.throws(
    () => planDebconf({ name: 'p', question: 'x', vtype: 'string' }, prev),
    /parameters are required together: question, vtype, value/,
  );
});

test('timezone: the current zone and clock read as Ansible (Debian files, link, systemd status)', () => {
  const s = {
    systemd: false,
    status: '',
    zoneFile: true,
    dpkg: true,
    timezone: 'Etc/UTC\n',
    link: '/usr/share/zoneinfo/Etc/UTC',
    localtimeExists: true,
    sameAsPlanned: false,
    rcS: null,
    adjtime: null,
  };
  assert.deepEqual(currentValues({ name: 'Europe/Paris' }, s), { name: 'Etc/UTC' });
  assert.deepEqual(currentValues({ name: 'Etc/UTC' }, s), { name: 'Etc/UTC' });
  assert.deepEqual(
    currentValues({ name: 'Europe/Paris' }, { ...s, timezone: 'Europe/Paris\n' }),
    { name: 'Etc/UTC' },
    'the link decides when the file agrees',
  );
  assert.deepEqual(
    currentValues({ name: 'Etc/UTC' }, { ...s, link: null, sameAsPlanned: false }),
    { name: 'n/a' },
    'a copied zone file that differs',
  );
  assert.deepEqual(currentValues({ name: 'Etc/UTC' }, { ...s, timezone: null }), { name: 'n/a' });
  assert.deepEqual(
    currentValues({ hwclock: 'local' }, { ...s, rcS: 'UTC=no\n' }),
    { hwclock: 'UTC' },
    'rcS agrees: /etc/adjtime (absent: UTC) decides',
  );
  assert.deepEqual(currentValues({ hwclock: 'local' }, { ...s, rcS: 'UTC=no\n', adjtime: '0 0 0\n0\nLOCAL\n' }), {
    hwclock: 'local',
  });
  assert.deepEqual(currentValues({ hwclock: 'UTC' }, { ...s, rcS: null }), { hwclock: 'n/a' });
  const st =
    '               Local time: Thu 2026-11-26\n                Time zone: Europe/Paris (CET, +0100)\n          RTC in local TZ: no\n';
  assert.deepEqual(currentValues({ name: 'x', hwclock: 'UTC' }, { ...s, systemd: true, status: st }), {
    name: 'Europe/Paris',
    hwclock: 'UTC',
  });
  assert.deepEqual(editTzFile('a\n#c\nb\n', /^(\S+)/m, 'z\n'), { text: 'z\n', deleted: 3 });
  assert.deepEqual(editTzFile('# x\n  \nUTC=no\nUTC=yes\n', /^UTC\s*=\s*(\S+)/m, 'UTC=yes\n'), {
    text: '# x\n  \nUTC=yes\n',
    deleted: 2,
  });
  assert.deepEqual(editTzFile(null, /^(\S+)/m, 'Etc/UTC\n'), { text: 'Etc/UTC\n', deleted: 0 });
});

test('hostname: what changes and the name reported before, as Ansible', () => {
  const s = { strategy: 'file' as const, current: 'old', permanent: 'old', fqdn: 'old' };
  assert.equal(planHostname('old', s), null);
  assert.deepEqual(planHostname('new', s), { current: true, permanent: true, before: 'old' });
  assert.deepEqual(planHostname('new', { ...s, strategy: 'systemd', current: 'new' }), {
    current: false,
    permanent: true,
    before: 'old',
  });
  assert.deepEqual(planHostname('new', { ...s, strategy: 'systemd', permanent: 'new' }), {
    current: true,
    permanent: false,
    before: 'old',
  });
});

test('modprobe: persistent files written as community.general 6.x (new files, old options commented out)', () => {
  const s = {
    hasModprobe: true,
    loaded: true,
    loadFiles: [['/etc/modules-load.d/m.conf', '# c\ndummy # x\nloop\n']] as [string, string][],
    paramFiles: [['/etc/modprobe.d/a.conf', 'options dummy numdummies=2\nblacklist foo\n']] as [string, string][],
  };
  const w = (p: Record<string, unknown>, st = s) =>
    persistentWrites({ name: 'dummy', state: 'present', params: '', ...p }, st);
  assert.deepEqual(
    w({ persistent: 'present', params: 'numdummies=2' }),
    [],
    'loaded persistently with the same options: nothing',
  );
  assert.deepEqual(w({ persistent: 'present', params: 'numdummies=3' }), [
    ['/etc/modprobe.d/a.conf', '#options dummy numdummies=2\n\nblacklist foo\n'],
    ['/etc/modprobe.d/dummy.conf', 'options dummy numdummies=3\n'],
  ]);
  assert.deepEqual(w({ persistent: 'present', params: 'numdummies=2' }, { ...s, loadFiles: [] }), [
    ['/etc/modules-load.d/dummy.conf', 'dummy\n'],
  ]);
  assert.deepEqual(w({ persistent: 'absent' }), [
    ['/etc/modules-load.d/m.conf', '# c\n\n#dummy # x\n\nloop\n'],
    ['/etc/modprobe.d/a.conf', '#options dummy numdummies=2\n\nblacklist foo\n'],
  ]);
  assert.deepEqual(w({ persistent: 'disabled' }), []);
});

test('alternatives: --display parsed and the update-alternatives calls planned as community.general 6.x', () => {
  const out =
    'editor - manual mode\n  link best version is /usr/bin/vim.basic\n  link currently points to /bin/nano\n  link editor is /usr/bin/editor\n  slave editor.1.gz is /usr/share/man/man1/editor.1.gz\n/bin/nano - priority 40\n  slave editor.1.gz: /usr/share/man/man1/nano.1.gz\n/usr/bin/vim.basic - priority 30\n  slave editor.1.gz: (null)\n';
  const d = parseDisplay(out, null);
  assert.equal(d.mode, 'manual');
  assert.equal(d.path, '/bin/nano');
  assert.equal(d.link, '/usr/bin/editor');
  assert.deepEqual(d.alternatives.get('/bin/nano'), {
    priority: 40,
    subcommands: [
      { name: 'editor.1.gz', path: '/usr/share/man/man1/nano.1.gz', link: '/usr/share/man/man1/editor.1.gz' },
    ],
  });
  assert.deepEqual(d.alternatives.get('/usr/bin/vim.basic'), { priority: 30, subcommands: [] });
  assert.equal(
    parseDisplay('my-alt - auto mode\n  link my-alt is /usr/bin/my-alt\n/bin/a - priority 1\n', null).link,
    null,
    'a name with a hyphen: Ansible finds no link',
  );
  const s = { display: d, pathExists: true };
  const plan = (p: Record<string, unknown>) => planAlternatives({ name: 'editor', ...p }, s);
  assert.equal(plan({ path: '/bin/nano', state: 'selected' }), null);
  assert.deepEqual(plan({ path: '/usr/bin/vim.basic' }), {
    argvs: [['--set', 'editor', '/usr/bin/vim.basic']],
    messages: ["Set alternative '/usr/bin/vim.basic' for 'editor'."],
  });
  assert.deepEqual(plan({ path: '/usr/bin/vim.basic', priority: 50, state: 'present' })?.argvs, [
    ['--install', '/usr/bin/editor', 'editor', '/usr/bin/vim.basic', '50'],
  ]);
  assert.deepEqual(plan({ path: '/bin/nano', state: 'auto' })?.argvs, [['--auto', 'editor']]);
  assert.deepEqual(plan({ path: '/bin/ed', state: 'present' })?.argvs, [
    ['--install', '/usr/bin/editor', 'editor', '/bin/ed', '50'],
  ]);
  assert.deepEqual(plan({ path: '/bin/nano', state: 'absent' })?.messages, [
    "Remove alternative '/bin/nano' from 'editor'.",
  ]);
  assert.equal(plan({ path: '/bin/ed', state: 'absent' }), null);
  assert.throws(
    () =>
      planAlternatives(
        { name: 'x', path: '/bin/ed', state: 'present' },
        { display: parseDisplay(null, null), pathExists: true },
      ),
    /missing the link/,
  );
  assert.throws(
    () =>
      planAlternatives(
        { name: 'x', path: '/nope', link: '/l' },
        { display: parseDisplay(null, null), pathExists: false },
      ),
    /Specified path \/nope does not exist/,
  );
});

test('known_hosts: ssh-keygen -F answers read as Ansible, the file rewritten as it does', () => {
  const k1 = 'host1 ssh-ed25519 AAAA1\n';
  const file = '# c\nother ssh-ed25519 OOOO\nhost1 ssh-ed25519 AAAA1\n';
  const hit = (line: number, text: string) => ({
    rc: 0,
    stdout: `# Host host1 found: line ${line} \n${text}\n`,
    stderr: '',
  });
  assert.deepEqual(searchHostKey(k1, null), [false, false, null]);
  assert.deepEqual(searchHostKey(k1, { rc: 1, stdout: '', stderr: '' }), [false, false, null]);
  assert.deepEqual(searchHostKey(k1, hit(3, 'host1 ssh-ed25519 AAAA1')), [true, false, 3]);
  assert.deepEqual(searchHostKey(k1, hit(3, 'host1 ssh-ed25519 BBBB2')), [true, true, 3]);
  assert.deepEqual(searchHostKey(k1, hit(3, 'host1 ssh-rsa CCCC')), [true, true, null]);
  assert.deepEqual(
    searchHostKey('|1|a|b ssh-ed25519 AAAA1\n', hit(2, '|1|x|y ssh-ed25519 AAAA1')),
    [true, false, 2],
    'hashed: the hash is not compared',
  );
  assert.throws(
    () => searchHostKey(k1, { rc: 255, stdout: 'x', stderr: 'bad' }),
    /ssh-keygen failed \(rc=255, stdout='x',stderr='bad'\)/,
  );
  const s = { path: '/kh', key: k1, sanity: 'host1 ssh-ed25519 AAAA1\n', search: null, content: file };
  assert.equal(planKnownHosts({ name: 'host1' }, { ...s, search: hit(3, 'host1 ssh-ed25519 AAAA1') }), null);
  assert.equal(
    planKnownHosts(
      { name: 'host1' },
      { ...s, key: 'host1 ssh-ed25519 NEW\n', search: hit(3, 'host1 ssh-ed25519 AAAA1') },
    )?.text,
    '# c\nother ssh-ed25519 OOOO\nhost1 ssh-ed25519 NEW\n',
  );
  assert.equal(planKnownHosts({ name: 'host1' }, { ...s, content: '# c\n' })?.text, `# c\n${k1}`);
  assert.equal(
    planKnownHosts({ name: 'host1', state: 'absent' }, { ...s, search: hit(3, 'host1 ssh-ed25519 AAAA1') })?.text,
    '# c\nother ssh-ed25519 OOOO\n',
  );
  assert.equal(
    planKnownHosts({ name: 'host1', state: 'absent' }, { ...s, search: hit(3, 'host1 ssh-rsa X') }),
    null,
    'another type: nothing to remove',
  );
  assert.deepEqual(
    planKnownHosts(
      { name: 'host1', state: 'absent' },
      { ...s, key: '', sanity: null, search: hit(3, 'host1 ssh-ed25519 AAAA1') },
    )?.remove,
    true,
  );
  assert.throws(
    () => planKnownHosts({ name: 'host1' }, { ...s, sanity: '' }),
    /Host parameter does not match hashed host field in supplied key/,
  );
  assert.throws(() => planKnownHosts({ name: 'a,b' }, s), /Comma separated list of names is not supported/);
  assert.throws(() => planKnownHosts({ name: 'host1' }, { ...s, key: '' }), /No key specified when adding a host/);
  assert.equal(
    hashHostKey('host1', 'host1 ssh-ed25519 AAAA1', Buffer.alloc(20)),
    '|1|AAAAAAAAAAAAAAAAAAAAAAAAAAA=|' +
      createHmac('sha1', Buffer.alloc(20)).update('host1').digest('base64') +
      ' ssh-ed25519 AAAA1',
  );
});

test('path info: the keys Ansible adds to a result with a path (add_path_info)', () => {
  assert.deepEqual(parsePathInfo('S|x\nPI1|0|0|root|root|regular file|1\nPI2|644|regular file|12\n'), {
    uid: 0,
    gid: 0,
    owner: 'root',
    group: 'root',
    mode: '0644',
    state: 'file',
    size: 12,
  });
  assert.equal(parsePathInfo('PI1|5|5|UNKNOWN|UNKNOWN|directory|2\nPI2|1777|directory|4096\n')?.mode, '01777');
  assert.deepEqual(parsePathInfo('PI1|5|5|UNKNOWN|UNKNOWN|directory|2\nPI2|777|symbolic link|3\n'), {
    uid: 5,
    gid: 5,
    owner: '5',
    group: '5',
    mode: '0777',
    state: 'link',
    size: 3,
  });
  assert.equal(parsePathInfo('PI1|0|0|root|root|regular file|2\nPI2|644|regular file|1\n')?.state, 'hard');
  assert.equal(parsePathInfo(''), undefined, 'a missing path adds nothing');
});
