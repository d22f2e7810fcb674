import assert from 'node:assert/strict';
import { test } from 'node:test';
import { octalMode, permissionFlags, symbolicToOctal } from '../../src/modules/mode.js';
import { statResult } from '../../src/modules/stat.js';
import { planFile } from '../../src/modules/file.js';
import { parseStat } from '../../src/modules/remote-file.js';
import { lineinfile } from '../../src/modules/lineinfile.js';
import { planContent } from '../../src/modules/content.js';
import { perlProbe } from '../../src/transport/probe-command.js';
import { opsCommand } from '../../src/modules/file-ops.js';

test('symbolic modes give the octal mode chmod (and Ansible) would: u+x, g-w, u=rwX, a+r,u+w, =, copies, umask', () => {
  const cases: [string, number, boolean, number][] = [
    ['u+x', 0o644, false, 0o744],
    ['g-w', 0o664, false, 0o644],
    ['u=rwX', 0o644, false, 0o644], // no x bit anywhere: X gives nothing on a file
    ['u=rwX', 0o654, false, 0o754], // some x bit: X counts
    ['u=rwX', 0o600, true, 0o700], // a directory: X counts
    ['a+r,u+w', 0o400, false, 0o644],
    ['go-rwx', 0o755, false, 0o700],
    ['o=', 0o757, false, 0o750],
    ['g=u', 0o700, false, 0o770],
    ['u+s', 0o755, false, 0o4755],
    ['+t', 0o777, true, 0o1777],
    ['+w', 0o444, false, 0o644], // no user class: the umask (022) keeps g and o from getting w
    ['a+w', 0o444, false, 0o666],
    ['u=rw,g=r,o=', 0o777, false, 0o640],
  ];
  for (const [mode, from, dir, want] of cases)
    assert.equal(
      symbolicToOctal(mode, from, dir, 0o022).toString(8),
      want.toString(8),
      `${mode} on ${from.toString(8)}`,
    );
  assert.equal(octalMode('0644', '0755', false), '0644');
  assert.equal(octalMode('755', '0644', false), '0755');
  assert.throws(() => symbolicToOctal('u+y', 0o644, false), /bad symbolic permission/);
});

test('file: a symbolic mode already in effect plans nothing; one not in effect plans the octal chmod', () => {
  const f = parseStat('U|0022\nS|regular file|744|root|root|3\n');
  assert.equal(f.umask, 0o022);
  assert.equal(planFile({ path: '/f', state: 'file', mode: 'u+x' }, f), null);
  assert.equal(planFile({ path: '/f', state: 'file', mode: 'u=rwX,g=r,o=r' }, f), null);
  assert.deepEqual(planFile({ path: '/f', state: 'file', mode: 'g-r,o-r' }, f)?.cmds, ['chmod 0700 -- /f']);
  // a new directory starts from 0777 minus the umask
  assert.deepEqual(planFile({ path: '/d', state: 'directory', mode: 'o-rx' }, { exists: false, umask: 0o022 })?.cmds, [
    'mkdir -p -- /d',
    'chmod 0750 -- /d',
  ]);
});

function fakeCtx(stat: string, ran: string[]) {
  const run = async (cmd: string) => {
    ran.push(cmd);
    return { rc: 0, stdout: cmd.includes('orch-probe') ? stat : '', stderr: '' };
  };
  // a probe is recorded in its shell form, as the executor sends it
  return { host: 'h', check: false, diff: false, run, probe: (code: string) => run(perlProbe(code)) } as never;
}

test('lineinfile: text already right but mode/owner wrong is fixed and reported as Ansible does', async () => {
  const content = Buffer.from('a=1\n').toString('base64');
  const ran: string[] = [];
  const stat = `U|0022\nS|regular file|644|root|root|4\nH|x\nC|${content}\n`;
  const r = await lineinfile.run(fakeCtx(stat, ran), {
    path: '/f',
    line: 'a=1',
    state: 'present',
    mode: '0600',
    owner: 'deploy',
  });
  assert.equal(r.changed, true);
  assert.equal(r.msg, 'ownership, perms or SE linux context changed');
  // chmod and chown, as Perl code in the runner (file-ops.ts)
  assert.equal(
    ran[1],
    opsCommand([
      { op: 'chmod', mode: '0600', path: '/f' },
      { op: 'chown', owner: 'deploy', path: '/f', noDereference: false },
    ]),
  );
  assert.match(ran[1] ?? '', /orch-write$/);
  const same = await lineinfile.run(fakeCtx(`U|0022\nS|regular file|600|deploy|root|4\nH|x\nC|${content}\n`, []), {
    path: '/f',
    line: 'a=1',
    state: 'present',
    mode: '0600',
    owner: 'deploy',
  });
  assert.equal(same.changed, false);
  const both = await lineinfile.run(fakeCtx(stat, []), { path: '/f', line: 'b=2', state: 'present', mode: '0600' });
  assert.equal(both.msg, 'line added and ownership, perms or SE linux context changed');
});

test('lineinfile create=yes: "and ownership..." only when the new file is not already as asked (creator, 0666 minus umask)', async () => {
  const none = 'U|0022|root|root\nA\n';
  const run = (extra: Record<string, unknown>) =>
    lineinfile.run(fakeCtx(none, []), { path: '/n', line: 'x', state: 'present', create: true, ...extra });
  assert.equal((await run({})).msg, 'line added');
  assert.equal((await run({ owner: 'root', mode: '0644' })).msg, 'line added');
  assert.equal((await run({ owner: 'deploy' })).msg, 'line added and ownership, perms or SE linux context changed');
  assert.equal((await run({ mode: '0600' })).msg, 'line added and ownership, perms or SE linux context changed');
});

test('copy force=no onto an existing file: nothing at all, not even mode/owner (as Ansible)', () => {
  const file = parseStat('U|0022|root|root\nS|regular file|644|root|root|2\nH|x\n');
  const s = { dest: '/c', file, content: Buffer.from('b\n') };
  assert.equal(planContent({ force: false, mode: '0600', owner: 'deploy' }, s), null);
  assert.deepEqual(planContent({ force: true, mode: '0644' }, s)?.changes, { write: true, attrOps: [] });
  assert.deepEqual(planContent({ force: false, mode: '0600' }, { ...s, file: { exists: false } })?.changes.write, true);
});

test("permission flags: stat's and find's keys from one helper, each bit as Ansible's stat names it", () => {
  assert.deepEqual(permissionFlags(0o4751), {
    wusr: true,
    rusr: true,
    xusr: true,
    wgrp: false,
    rgrp: true,
    xgrp: true,
    woth: false,
    roth: false,
    xoth: true,
    isuid: true,
    isgid: false,
  });
  assert.equal(permissionFlags(0o2000).isgid, true);
  const s = statResult('/f', { exists: true, type: 'file', mode: '4751' }, { get_mime: false, get_attributes: false });
  assert.deepEqual(Object.fromEntries(Object.keys(permissionFlags(0)).map((k) => [k, s[k]])), permissionFlags(0o4751));
  // find's files carry them too: the probe table's find rows (probes.test.ts) were recorded before they moved here
});
