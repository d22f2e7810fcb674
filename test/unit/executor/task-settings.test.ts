import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectError, ModuleError, NotImplementedError } from '../../../src/core/errors.js';
import { findModule } from '../../../src/modules/registry.js';
import { ModuleFailure, type Module } from '../../../src/modules/types.js';
import { buildScope, OMIT, type PlayVars } from '../../../src/executor/scope.js';
import type { RunOptions } from '../../../src/executor/state.js';
import {
  asyncLimit,
  bool,
  environmentFor,
  execSettings,
  factsHost,
  failure,
  notImplemented,
  renderParams,
  sameConnectionAsPlay,
  withModuleDefaults,
} from '../../../src/executor/task-settings.js';
import type { Task } from '../../../src/playbook/model.js';
import { mockRunState } from '../../helpers/mock-transport.js';
import { flatTasks, playOf, scopeOf } from '../../helpers/playbook.js';

/** The first task of a playbook run on a mock host h1 (inventory variables given), with what it sees there. */
function setting(playYaml: string, inventory = 'h1\n', opts: Partial<RunOptions> = {}) {
  const play = playOf(playYaml);
  const task = flatTasks(play.sections.flat())[0] as Task;
  const m = mockRunState(inventory, opts);
  const pv: PlayVars = { play, filesVars: {}, playHosts: ['h1'], batch: ['h1'] };
  const scope = buildScope(m.rs, 'h1', pv, task);
  return { ...m, play, task, pv, scope, exec: () => execSettings(m.rs, pv, task, scope) };
}

const mod = (name: string) => findModule(name) as Module;

test('bool: Ansible truthy strings (yes/true/on/1, any case) after templating; anything else false', () => {
  const s = scopeOf({ on: 'Yes', off: 'no' });
  for (const v of [true, 'yes', 'TRUE', 'on', '1', 1, '{{ on }}']) assert.equal(bool(v, s), true, String(v));
  for (const v of [false, 'no', 'off', '0', 0, '', undefined, null, '{{ off }}'])
    assert.equal(bool(v, s), false, String(v));
});

test('become: off unless the task, the play, ansible_become or -b asks; the task keyword wins over the play', () => {
  assert.equal(setting('- hosts: all\n  tasks: [{ command: id }]\n').exec().become, undefined);
  assert.deepEqual(setting('- hosts: all\n  become: true\n  tasks: [{ command: id }]\n').exec().become, {
    user: 'root',
  });
  assert.equal(
    setting('- hosts: all\n  become: true\n  tasks: [{ command: id, become: false }]\n').exec().become,
    undefined,
    'become: false on the task beats the play',
  );
  assert.deepEqual(setting('- hosts: all\n  tasks: [{ command: id }]\n', 'h1 ansible_become=yes\n').exec().become, {
    user: 'root',
  });
  assert.deepEqual(setting('- hosts: all\n  tasks: [{ command: id }]\n', 'h1\n', { become: true }).exec().become, {
    user: 'root',
  });
  assert.equal(
    setting('- hosts: all\n  tasks: [{ command: id }]\n', 'h1 ansible_become=no\n', { become: true }).exec().become,
    undefined,
    'the host variable beats -b',
  );
});

test('become: user from the task, else the play, else ansible_become_user (templated); password and su method from the host', () => {
  const inv = 'h1 ansible_become_user=ops ansible_become_password=pw\n';
  const fromVar = setting('- hosts: all\n  become: true\n  tasks: [{ command: id }]\n', inv).exec().become;
  assert.deepEqual(fromVar, { user: 'ops', password: 'pw' });
  const play = setting('- hosts: all\n  become: true\n  become_user: app\n  tasks: [{ command: id }]\n', inv).exec();
  assert.equal(play.become?.user, 'app');
  const task = setting(
    '- hosts: all\n  become: true\n  become_user: app\n  vars: { u: db }\n  tasks: [{ command: id, become_user: "{{ u }}", become_method: su }]\n',
    inv,
  ).exec();
  assert.deepEqual(task.become, { user: 'db', password: 'pw', method: 'su' });
  assert.throws(
    () => setting('- hosts: all\n  tasks: [{ command: id, become: true, become_method: doas }]\n').exec(),
    (e) => e instanceof ModuleError && /become_method 'doas' is not supported/.test(e.message),
  );
});

test('environment: the play, block and task layers merged (inner wins), values templated and turned to strings', () => {
  const s = setting(`- hosts: all
  environment: { A: play, B: play }
  vars: { n: 3 }
  tasks:
    - block:
        - { command: env, environment: { C: "{{ n }}", A: task } }
      environment: { B: block }
`);
  assert.deepEqual(environmentFor(s.task, s.scope), { A: 'task', B: 'block', C: '3' });
});

test('timeout: the task keyword in seconds, else --timeout; async: N caps it at N seconds', () => {
  assert.equal(
    setting('- hosts: all\n  tasks: [{ command: id }]\n').exec().timeoutMs,
    undefined,
    'no limit by default',
  );
  assert.equal(
    setting('- hosts: all\n  tasks: [{ command: id }]\n', 'h1\n', { commandTimeoutMs: 9000 }).exec().timeoutMs,
    9000,
  );
  assert.equal(
    setting('- hosts: all\n  vars: { t: 2 }\n  tasks: [{ command: id, timeout: "{{ t }}" }]\n', 'h1\n', {
      commandTimeoutMs: 9000,
    }).exec().timeoutMs,
    2000,
    'the task keyword beats --timeout',
  );
  assert.equal(setting('- hosts: all\n  tasks: [{ command: id, async: 5, poll: 1 }]\n').exec().timeoutMs, 5000);
  const s = setting('- hosts: all\n  tasks: [{ command: id, async: 5, poll: 1 }]\n');
  assert.equal(asyncLimit(s.task, s.scope, 3000), 3000, 'a shorter limit stays');
  assert.equal(asyncLimit(s.task, s.scope, 60000), 5000);
});

test('renderParams: templated, `omit` drops the parameter, raw parameters stay as written', () => {
  const s = scopeOf({ p: '/etc/x', o: OMIT });
  assert.deepEqual(renderParams(mod('file'), { path: '{{ p }}', mode: '{{ o }}' }, s), { path: '/etc/x' });
  const raw = Object.assign({}, mod('debug'), { rawParams: ['msg'] }) as Module;
  assert.deepEqual(renderParams(raw, { msg: '{{ p }}' }, s), { msg: '{{ p }}' });
});

test('module_defaults: play, block and task layers under the task arguments, for the module by either name; a group is refused', () => {
  const s = setting(`- hosts: all
  module_defaults: { file: { mode: "0600", owner: root }, copy: { mode: "0644" } }
  tasks:
    - block:
        - { file: { path: /x, owner: app } }
      module_defaults: { ansible.builtin.file: { group: app, mode: "0700" } }
`);
  assert.deepEqual(withModuleDefaults(s.task, mod('file')), { mode: '0700', owner: 'app', group: 'app', path: '/x' });
  const g = setting(
    '- hosts: all\n  module_defaults: { group/aws: { region: x } }\n  tasks: [{ file: { path: /x } }]\n',
  );
  assert.throws(() => withModuleDefaults(g.task, mod('file')), NotImplementedError);
});

test('failure: how an error becomes a result (unreachable for a lost connection, failed with msg otherwise)', () => {
  assert.deepEqual(failure(new ConnectError('h1', 'refused', { hint: 'is sshd up?' })).unreachable, true);
  const f = failure(new ModuleFailure('bad', { rc: 2 }));
  assert.deepEqual([f.failed, f.msg, f.rc], [true, 'bad', 2]);
  const internal = failure(new TypeError('x is undefined'));
  assert.equal(internal.msg, 'internal error: x is undefined');
  assert.ok(typeof internal.exception === 'string', 'the stack is kept for -vvv');
});

test('notImplemented: a "not implemented" error names the task, its file:line and the host; others pass through', () => {
  const s = setting('- hosts: all\n  tasks: [{ name: t1, command: id }]\n');
  const e = notImplemented(new NotImplementedError('x is not implemented by orch', { hint: 'h' }), s.task, 'h1');
  assert.ok(e instanceof NotImplementedError);
  assert.match(e.message, /^x is not implemented by orch \(task 't1' at .*playbook\.yml:2:\d+, host h1\)$/);
  assert.equal(e.hint, 'h');
  const other = new Error('x');
  assert.equal(notImplemented(other, s.task, 'h1'), other);
});

test('sameConnectionAsPlay: only a task with no connection, remote_user or port of its own', () => {
  const s = setting('- hosts: all\n  remote_user: a\n  tasks: [{ command: id }, { command: id, remote_user: b }]\n');
  const [, other] = s.play.sections.flat() as Task[];
  assert.equal(sameConnectionAsPlay(s.task, s.pv), true);
  assert.equal(sameConnectionAsPlay(other as Task, s.pv), false);
});

test('factsHost: delegate_facts sends the facts to the delegated host; an unknown one keeps them here with a warning', () => {
  const s = setting(
    '- hosts: all\n  tasks: [{ setup: {}, delegate_to: "{{ peer }}", delegate_facts: true }]\n',
    'h1 peer=h2\nh2\n',
  );
  const here = s.rs.hosts.get('h1');
  assert.ok(here);
  assert.equal(factsHost(s.rs, s.task, here, s.scope).name, 'h2');
  const lost = setting('- hosts: all\n  tasks: [{ setup: {}, delegate_to: nowhere, delegate_facts: true }]\n', 'h1\n');
  const h1 = lost.rs.hosts.get('h1');
  assert.ok(h1);
  assert.equal(factsHost(lost.rs, lost.task, h1, lost.scope).name, 'h1');
  assert.ok(lost.events.some((e) => e.type === 'warning' && /'nowhere' is not in the inventory/.test(e.msg)));
});

test('buildScope: play_hosts and ansible_play_* are made when read (not per scope), without the hosts failed by then', () => {
  const play = playOf('- hosts: all\n  tasks:\n    - debug: msg=x\n');
  const m = mockRunState('h1\nh2\nh3\n');
  let reads = 0;
  const hosts = ['h1', 'h2', 'h3'];
  // counts every walk over the play's hosts
  const counted = new Proxy(hosts, {
    get: (t, k, r) => {
      if (k === Symbol.iterator || k === 'filter') reads++;
      return Reflect.get(t, k, r) as unknown;
    },
  });
  const pv: PlayVars = { play, filesVars: {}, playHosts: counted, batch: counted };
  const scope = buildScope(m.rs, 'h1', pv, flatTasks(play.sections.flat())[0]);
  assert.equal(reads, 0, 'building a scope does not walk the play hosts');
  const h2 = m.rs.hosts.get('h2');
  assert.ok(h2);
  h2.failed = true;
  assert.deepEqual(scope.get('play_hosts'), ['h1', 'h3']);
  assert.deepEqual(scope.get('ansible_play_hosts'), ['h1', 'h3']);
  assert.deepEqual(scope.get('ansible_play_batch'), ['h1', 'h3']);
  assert.deepEqual(scope.get('ansible_play_hosts_all'), ['h1', 'h2', 'h3']);
});

test('buildScope: the role names an include_role adds during the play are in the next scopes (the play magic is shared)', () => {
  const play = playOf('- hosts: all\n  roles: []\n  tasks:\n    - debug: msg=x\n');
  const m = mockRunState('h1\n');
  const pv: PlayVars = { play, filesVars: {}, playHosts: ['h1'], batch: ['h1'] };
  const task = flatTasks(play.sections.flat())[0];
  assert.deepEqual(buildScope(m.rs, 'h1', pv, task).get('ansible_role_names'), []);
  play.roleNames.push('added');
  play.dependencyRoleNames.push('dep');
  const scope = buildScope(m.rs, 'h1', pv, task);
  assert.deepEqual(scope.get('ansible_role_names'), ['dep', 'added']);
  assert.deepEqual(scope.get('role_names'), ['added']);
});
