import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dumpSources, loadSources, planSources, suggestFilename } from '../../src/modules/apt-repository.js';
import { parseKeyId, parseKeys } from '../../src/modules/apt-key.js';
import { debQueryScript, debSources, debsToInstall, parseDebs } from '../../src/modules/apt-deb.js';
import { upgradeMode } from '../../src/modules/apt-options.js';

// Expected values are what ansible-core 2.14's apt_repository/apt_key code gives for the same input.

test('apt_repository names the sources.list.d file from the repo line as Ansible does', () => {
  const cases: [string, string][] = [
    [
      'deb [arch=amd64 signed-by=/usr/share/keyrings/docker.gpg] https://download.docker.com/linux/debian bookworm stable',
      'download_docker_com_linux_debian.list',
    ],
    ['deb http://user:pw@deb.example.org/debian-x stable main', 'deb_example_org_debian_x.list'],
    ['deb-src file:/srv/orch-repo orchstable main', 'file_srv_orch_repo.list'],
    ['deb http://ppa.launchpad.net/haproxy/ppa/ubuntu focal main', 'ppa_launchpad_net_haproxy_ppa_ubuntu.list'],
    ["deb http://x.org/a;b' c main", 'x_org_a_b.list'],
  ];
  for (const [line, file] of cases) assert.equal(suggestFilename(line), file, line);
  assert.equal(suggestFilename('deb http://x/ y main', 'docker'), 'docker.list');
});

test('apt_repository rewrites a sources file in its own normal form (comments, spacing, disabled lines)', () => {
  const text = '#comment here\n\ndeb   http://a/  x main   # note\n#deb http://b/ y main\r\nfoo bar';
  assert.equal(
    dumpSources(loadSources(text)),
    '# comment here\n\ndeb http://a/ x main # note\n# deb http://b/ y main\nfoo bar\n',
  );
});

const state = (files: [string, string][]) => ({
  sourceList: '/etc/apt/sources.list',
  partsDir: '/etc/apt/sources.list.d/',
  files,
});

test('apt_repository plan: adds a new file, enables a disabled copy, is a no-op when present, removes and deletes an emptied file', () => {
  const added = planSources({ repo: 'deb http://a/ x main', state: 'present' }, state([]));
  assert.deepEqual(added?.changes.writes, [['/etc/apt/sources.list.d/a.list', 'deb http://a/ x main\n']]);
  const enabled = planSources(
    { repo: 'deb http://a/ x main', state: 'present' },
    state([['/etc/apt/sources.list', '# deb http://a/ x main\n']]),
  );
  assert.deepEqual(enabled?.changes.writes, [['/etc/apt/sources.list', 'deb http://a/ x main\n']]);
  assert.equal(
    planSources(
      { repo: 'deb  http://a/ x main', state: 'present' },
      state([['/etc/apt/sources.list.d/z.list', 'deb http://a/ x main\n']]),
    ),
    null,
  );
  const removed = planSources(
    { repo: 'deb http://a/ x main', state: 'absent' },
    state([
      ['/etc/apt/sources.list.d/a.list', 'deb http://a/ x main\n'],
      ['/etc/apt/sources.list', '#x\ndeb http://b/ y main\n'],
    ]),
  );
  assert.deepEqual(removed?.changes.removes, ['/etc/apt/sources.list.d/a.list']);
  assert.deepEqual(removed?.changes.writes, [['/etc/apt/sources.list', '# x\ndeb http://b/ y main\n']]);
  assert.equal(
    planSources(
      { repo: 'deb http://a/ x main', state: 'absent' },
      state([['/etc/apt/sources.list', '# deb http://a/ x main\n']]),
    ),
    null,
  );
});

test('apt_repository refuses what Ansible refuses, with its message', () => {
  assert.throws(
    () => planSources({ repo: 'http://a/ x main', state: 'present' }, state([])),
    /^Error: Invalid repository string: http:\/\/a\/ x main$/,
  );
  assert.throws(
    () => planSources({ repo: '', state: 'present' }, state([])),
    /Please set argument 'repo' to a non-empty value/,
  );
});

test('apt_key reads key ids as Ansible: apt-key listing, gpg colons, short/long/full ids', () => {
  assert.deepEqual(
    parseKeys(
      'pub   ed25519/560A74167E663BCE 2026-11-26 [SC]\nuid x\nsub   rsa4096/AAAABBBBCCCCDDDD 2020-01-01 [E] [expired: 2021-01-01]\n',
    ),
    ['560A74167E663BCE'],
  );
  assert.deepEqual(parseKeys('pub:u:255:22:560A74167E663BCE:1764130841:::u:::scSC:::::ed25519:::0:\n', true), [
    '7E663BCE',
  ]);
  assert.deepEqual(parseKeyId('0x7e663bce'), ['7E663BCE', '7E663BCE', '7E663BCE']);
  assert.deepEqual(parseKeyId('9DC858229FC7DD38854AE2D88D81803C0EBFCD88'), [
    '0EBFCD88',
    '8D81803C0EBFCD88',
    '9DC858229FC7DD38854AE2D88D81803C0EBFCD88',
  ]);
  assert.equal(parseKeyId('12345'), null);
  assert.equal(parseKeyId('zz; rm -rf /'), null);
});

test('apt deb: a file is installed unless its package is installed at that version; only state=present', () => {
  const out = 'DEB|0|orch-hello|2.0|ii 2.0\nDEB|1|other|1.1|ii 1.0\nDEB|2|third|3|un \n';
  const debs = parseDebs(['/a.deb', 'http://x/b.deb', 'c.deb'], out);
  assert.deepEqual(debsToInstall(debs), ['http://x/b.deb', 'c.deb']);
  assert.throws(() => debSources({ deb: '/a.deb', state: 'absent' }), /deb only supports state=present/);
  assert.throws(() => parseDebs(['/nope.deb'], 'DEBBAD|0\n'), /Unable to install package/);
  assert.match(debQueryScript(["/x'; rm -rf /.deb"]), /f='\/x'\\''; rm -rf \/\.deb'/);
});

test("apt name='*' state=latest upgrades every installed package (upgrade=yes), alone only", () => {
  assert.equal(upgradeMode({ name: ['*'], state: 'latest' }), 'yes');
  assert.equal(upgradeMode({ name: ['*'], state: 'present' }), undefined);
  assert.equal(upgradeMode({ upgrade: true }), 'yes');
  assert.equal(upgradeMode({ upgrade: 'dist' }), 'dist');
  assert.throws(
    () => upgradeMode({ name: ['*', 'curl'], state: 'latest' }),
    /unable to install additional packages when upgrading all installed packages/,
  );
  assert.throws(() => upgradeMode({ upgrade: 'sideways' }), /value of upgrade must be one of/);
});
