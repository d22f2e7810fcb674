import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkUnitName, parseSystemctlShow, parseSystemdQuery, unitChangedOnDisk } from '../../src/modules/systemd.js';
import { parseVirtual } from '../../src/facts/virtual.js';

test('systemd: systemctl show parsed as Ansible (Exec* values in braces span lines)', () => {
  const s = parseSystemctlShow([
    'Id=x.service',
    'ExecStart={ path=/bin/sleep ; argv[]=/bin/sleep',
    'infinity ; ignore_errors=no }',
    'ActiveState=active',
    'Description=a=b',
  ]);
  assert.deepEqual(s, {
    Id: 'x.service',
    ExecStart: '{ path=/bin/sleep ; argv[]=/bin/sleep\ninfinity ; ignore_errors=no }',
    ActiveState: 'active',
    Description: 'a=b',
  });
});

test('systemd: the query output splits into show, is-enabled, is-enabled -l, init script and drop-ins', () => {
  const out = [
    'I=systemd',
    'Id=x.service',
    'LoadState=loaded',
    'DropInPaths=/etc/systemd/system/x.service.d/a.conf',
    'NeedDaemonReload=no',
    '@@orch-show-rc=0',
    'alias',
    '@@orch-is-enabled-rc=0',
    'alias',
    '  /etc/systemd/system/x.service',
    '@@orch-is-enabled-l-rc=0',
    '@@orch-dropin-dir=/etc/systemd/system/x.service.d',
    '@@orch-dropin=/etc/systemd/system/x.service.d/a.conf',
    '@@orch-dropin-dir=/run/systemd/system/x.service.d',
    '',
  ].join('\n');
  const s = parseSystemdQuery(out);
  assert.equal(s.status.Id, 'x.service');
  assert.equal(s.showRc, 0);
  assert.deepEqual(s.isEnabled, { rc: 0, out: 'alias' });
  assert.deepEqual(s.isEnabledFull, { rc: 0, out: 'alias\n  /etc/systemd/system/x.service' });
  assert.equal(s.initd, false);
  assert.equal(unitChangedOnDisk(s), false, 'the loaded drop-ins are the ones on disk');
  assert.equal(
    unitChangedOnDisk({ ...s, dropins: [...s.dropins, '/etc/systemd/system/x.service.d/b.conf'] }),
    true,
    'a new drop-in (systemd does not flag it)',
  );
  assert.equal(unitChangedOnDisk({ ...s, dropins: [] }), true, 'a removed drop-in');
  assert.equal(unitChangedOnDisk({ ...s, status: { ...s.status, NeedDaemonReload: 'yes' } }), true);
  assert.equal(
    unitChangedOnDisk({ ...s, status: { ...s.status, LoadState: 'not-found' }, dropins: [] }),
    false,
    'a unit systemd does not know yet loads fresh',
  );
});

test("systemd: glob names are refused with Ansible's message", () => {
  assert.throws(
    () => checkUnitName('cr*'),
    /This module does not currently support using glob patterns, found '\*' in service name: cr\*/,
  );
  assert.doesNotThrow(() => checkUnitName('postgresql@15-main'));
});

test('facts: /run/systemd/container names the container type after the cgroup/environ checks and before /.dockerenv, as Ansible', () => {
  assert.equal(parseVirtual('systemd_container=orch-lab\ndockerenv=1\n').virtualization_type, 'orch-lab');
  assert.equal(parseVirtual('container=orch-lab\nsystemd_container=orch-lab\n').virtualization_type, 'container');
  assert.equal(parseVirtual('dockerenv=1\n').virtualization_type, 'docker');
});
