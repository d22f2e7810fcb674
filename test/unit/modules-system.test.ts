import assert from 'node:assert/strict';
import { test } from 'node:test';
import { editIni } from '../../src/modules/ini-file.js';

test('ini_file: edits as community.general 6.x (lines, spaces, sections, messages)', () => {
  const base = '# c\n\n[main]\nname=old\nport = 80\nport = 81\n\n[x]\nk = v\n';
  const rows: [Record<string, unknown>, string | null, string | null, string][] = [
    [{ section: 'main', option: 'name', value: 'new' }, base, base.replace('name=old', 'name = new'), 'option changed'],
    [{ section: 'main', option: 'name', value: 'old' }, base, base.replace('name=old', 'name = old'), 'option changed'],
    [{ section: 'main', option: 'port', value: '81' }, base, base.replace('port = 80\n', ''), 'option changed'],
    [{ section: 'main', option: 'new', value: '1' }, base, base.replace('port = 81\n', 'port = 81\nnew = 1\n'), 'option added'],
    [{ section: null, option: 'top', value: '1', no_extra_spaces: true }, base, 'top=1\n# c\n\n[main]\nname=old\nport = 80\nport = 81\n\n[x]\nk = v\n', 'option added'],
    [{ section: 'y', option: 'a', value: 'b' }, base, `${base}[y]\na = b\n`, 'section and option added'],
    [{ section: 's', option: 'a', value: 'b' }, null, '\n[s]\na = b\n', 'section and option added'],
    [{ section: 'x', option: 'k', value: 'v' }, 'k=1\n[x]\nk = v', '[x]\nk = v\n'.replace(/^/, 'k=1\n'), 'OK'],
    [{ section: 'x', option: 'k', state: 'absent' }, base, base.replace('k = v\n', ''), 'option changed'],
    [{ section: 'x', state: 'absent' }, base, base.replace('[x]\nk = v\n', ''), 'section removed'],
    [{ section: 'x', option: 'f', allow_no_value: true }, base, `${base}f\n`, 'option added'],
    [{ section: 'x', option: 'm', values: ['a', 'b'], exclusive: false }, base, `${base}m = a\nm = b\n`, 'option added'],
    [{ section: 'main', option: 'name', value: 'old' }, '[main]\nname = old\n', null, 'OK'],
  ];
  for (const [params, current, text, msg] of rows) {
    const e = editIni({ path: '/f', state: 'present', ...params }, current);
    assert.deepEqual([e.text, e.result.msg], [text, msg], JSON.stringify(params));
  }
  assert.throws(() => editIni({ path: '/m', section: 's', option: 'o', value: 'v', create: false }, null), /Destination \/m does not exist!/);
  assert.throws(() => editIni({ path: '/m', section: 's', option: 'o' }, ''), /must be defined if state=present/);
});
