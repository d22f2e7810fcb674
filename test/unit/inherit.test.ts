import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inherit } from '../../src/playbook/inherit.js';
import type { Inherited } from '../../src/playbook/model.js';

const parent: Inherited = {
  when: ['a'],
  tags: ['t1'],
  become: true,
  become_user: 'root',
  environment: [{ A: '1' }],
  vars: { x: 1, y: 1 },
  dir: '/play',
};

test('inherit: conditions, environments and tags add up, vars merge with the entry winning', () => {
  const child = inherit(parent, { when: 'b', tags: ['t1', 't2'], environment: { B: '2' }, vars: { y: 2 } }, '/d');
  assert.deepEqual(child.when, ['a', 'b']);
  assert.deepEqual(child.tags, ['t1', 't2']);
  assert.deepEqual(child.environment, [{ A: '1' }, { B: '2' }]);
  assert.deepEqual(child.vars, { x: 1, y: 2 });
  assert.equal(child.dir, '/d');
});

test('inherit: an entry without a keyword keeps the parent value; one with it (even false) overrides it', () => {
  const kept = inherit(parent, {}, '/d');
  assert.equal(kept.become, true);
  assert.equal(kept.become_user, 'root');
  const off = inherit(parent, { become: false, become_user: 'app' }, '/d');
  assert.equal(off.become, false);
  assert.equal(off.become_user, 'app');
});

test('inherit: an Ansible keyword orch lacks is recorded in notImplemented, once', () => {
  const once = inherit(parent, { become_exe: 'pbrun' }, '/d');
  assert.deepEqual(once.notImplemented, ['become_exe']);
  assert.deepEqual(inherit(once, { become_exe: 'dzdo' }, '/d').notImplemented, ['become_exe']);
});
