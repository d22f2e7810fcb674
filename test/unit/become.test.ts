import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BecomeError } from '../../src/core/errors.js';
import { BecomeHandshake, becomeIds } from '../../src/transport/become.js';
import { LocalTransport } from '../../src/transport/local.js';
import { Secrets } from '../../src/core/secrets.js';

function handshake(password: string | undefined, method?: 'su') {
  const ids = becomeIds();
  const log = { sent: [] as string[], aborted: 0, started: 0 };
  const hs = new BecomeHandshake('h1', { user: 'root', password, method }, ids, {
    send: (s) => log.sent.push(s),
    abort: () => log.aborted++,
    started: () => log.started++,
  });
  return { hs, ids, log };
}

test('become handshake: no prompt → the password is never sent; stderr after the marker passes through', () => {
  const { hs, ids, log } = handshake('secret');
  assert.equal(hs.feed(Buffer.from(`${ids.marker}\nwarn`)).toString(), 'warn');
  assert.equal(hs.feed(Buffer.from(' more')).toString(), ' more');
  assert.deepEqual(log, { sent: [], aborted: 0, started: 1 });
});

test('become handshake: the prompt (even split across chunks) is answered once and never reaches the output', () => {
  const { hs, ids, log } = handshake('secret');
  const half = Math.floor(ids.prompt.length / 2);
  assert.equal(hs.feed(Buffer.from(ids.prompt.slice(0, half))).length, 0);
  assert.equal(hs.feed(Buffer.from(ids.prompt.slice(half))).length, 0);
  assert.deepEqual(log.sent, ['secret\n']);
  assert.equal(hs.feed(Buffer.from(`\n${ids.marker}\n`)).length, 0);
  assert.equal(log.started, 1);
});

test('become handshake: a second prompt is a wrong password: abort, BecomeError naming the host', () => {
  const { hs, ids, log } = handshake('secret');
  hs.feed(Buffer.from(ids.prompt));
  hs.feed(Buffer.from(`\nSorry, try again.\n${ids.prompt}`));
  assert.equal(log.sent.length, 1);
  assert.equal(log.aborted, 1);
  const e = hs.failure();
  assert.ok(e instanceof BecomeError);
  assert.match(e.message, /^h1: sudo to root failed: sudo refused the password \(incorrect password\)/);
  assert.doesNotMatch(e.message, /orch-become-/, 'the prompt token is not shown');
});

test("become handshake: sudo's own refusal before the marker (requiretty, sudoers) becomes advice", () => {
  const { hs } = handshake(undefined);
  hs.feed(Buffer.from('sudo: sorry, you must have a tty to run sudo\n'));
  assert.match(hs.failure().hint ?? '', /requiretty/);
  const b = handshake(undefined);
  b.hs.feed(Buffer.from('deploy is not in the sudoers file.  This incident will be reported.\n'));
  assert.match(b.hs.failure().hint ?? '', /may not use sudo/);
});

test('become handshake (su): "Password:" is answered; no password configured → refusal', () => {
  const { hs, ids, log } = handshake('rootpw', 'su');
  hs.feed(Buffer.from('Password: '));
  assert.deepEqual(log.sent, ['rootpw\n']);
  hs.feed(Buffer.from(`${ids.marker}\n`));
  assert.equal(log.started, 1);
  const none = handshake(undefined, 'su');
  none.hs.feed(Buffer.from('Password: '));
  assert.equal(none.log.aborted, 1);
  assert.match(none.hs.failure().message, /su to root failed: su asks for a password and none is set/);
});

test(
  "local transport: sudo as root (no prompt) with a password set: the command's stdin is exactly its own",
  { skip: process.getuid?.() !== 0 },
  async () => {
    const t = new LocalTransport('localhost');
    const r = await t.exec('cat; id -u', { become: { user: 'root', password: 'must-not-appear' }, stdin: 'data\n' });
    assert.equal(r.stdout, 'data\n0\n');
    assert.equal(r.stderr, '');
    const n = await t.exec('cat', { become: { user: 'nobody' }, stdin: 'x' });
    assert.equal(n.stdout, 'x');
  },
);

test('become handshake (su): the refusal after the prompt is not taken for a second prompt', () => {
  const { hs, log } = handshake('wrong', 'su');
  hs.feed(Buffer.from('Password: '));
  hs.feed(Buffer.from('su:'));
  hs.feed(Buffer.from(' Authentication failure\n'));
  assert.equal(log.sent.length, 1);
  assert.equal(log.aborted, 0);
  const e = hs.failure();
  assert.match(e.message, /^h1: su to root failed: su: Authentication failure$/);
  assert.match(e.hint ?? '', /password/);
});

test('become_method reaches every task: play, block, role entry and task keywords', async () => {
  const { loadPlaybook } = await import('../../src/playbook/load.js');
  const { writePlaybook } = await import('../helpers/lab.js');
  const { dirname, join } = await import('node:path');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const file = writePlaybook(
    '- hosts: all\n  become_method: su\n  roles:\n    - { role: r1, become_method: sudo }\n  tasks:\n    - command: id\n' +
      '    - block:\n        - command: id\n      become_method: sudo\n    - command: id\n      become_method: doas\n',
  );
  mkdirSync(join(dirname(file), 'roles', 'r1', 'tasks'), { recursive: true });
  writeFileSync(join(dirname(file), 'roles', 'r1', 'tasks', 'main.yml'), '- command: id\n');
  const play = loadPlaybook(file, { secrets: new Secrets(), rolePaths: [join(dirname(file), 'roles')] }).plays[0];
  assert.equal(play?.becomeMethod, 'su');
  const flat = (items: unknown[]): { become_method?: string; kind: string }[] =>
    (items as { kind: string; block?: unknown[]; become_method?: string }[]).flatMap((i) =>
      i.kind === 'block' ? flat(i.block ?? []) : [i],
    );
  const tasks = flat(play?.sections[1] ?? []);
  assert.deepEqual(
    tasks.map((t) => t.become_method),
    ['sudo', undefined, 'sudo', 'doas'],
    'role entry, play default (undefined: the play value applies), block, task',
  );
});

test('become handshake: a refused password is flagged (so the transport does not try it again); other refusals are not', () => {
  const { hs, ids } = handshake('secret');
  hs.feed(Buffer.from(ids.prompt));
  hs.feed(Buffer.from(`Sorry, try again.\n${ids.prompt}`));
  assert.equal(hs.failure().wrongPassword, true);
  const b = handshake(undefined);
  b.hs.feed(Buffer.from('sudo: a password is required\n'));
  assert.equal(b.hs.failure().wrongPassword, false);
});
