import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError } from '../../src/core/errors.js';
import { modules } from '../../src/modules/registry.js';
import { unsupportedParam, validateParams } from '../../src/modules/spec.js';
import { ansibleModule } from '../../src/playbook/ansible-known.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { Item, Task } from '../../src/playbook/model.js';
import { missingTaskKeywords } from '../../src/playbook/tasks.js';
import { listUnimplemented } from '../../src/playbook/unimplemented.js';
import { writePlaybook } from '../helpers/lab.js';
import { Secrets } from '../../src/core/secrets.js';

/** orch parameters Ansible's module of the same name does not have (orch's modules share specs). */
const ORCH_ONLY: Record<string, string[]> = {
  // systemd shares the service spec; Ansible's systemd module has none of these
  systemd: ['pattern', 'sleep', 'arguments', 'args', 'use'],
  // orch's package is its apt module: `use` is package's, the rest Ansible's package hands to apt
  apt: ['use'],
  // orch-side options of orch's own probe/connection check
  wait_for_connection: ['retries', 'delay'],
  include_vars: ['_raw_params'],
  // the action plugin reads it (a role's validation task passes it) though the module's docs do not list it
  validate_argument_spec: ['validate_args_context'],
  // options of later Ansible versions (2.16) orch accepts
  command: ['expand_argument_vars'],
  shell: ['strip_empty_ends'],
  // systemd's, in the spec service and systemd share
  service: ['daemon_reload'],
  // orch's names from older community.postgresql (today: maintenance_db, no_password_changes)
  postgresql_db: ['login_db'],
  postgresql_user: ['update_password'],
};

test('every parameter of every module spec declares its support status (full | partial | none)', () => {
  const missing: string[] = [];
  for (const [name, mod] of modules) {
    for (const [param, spec] of Object.entries(mod.spec.params)) {
      if (!['full', 'partial', 'none'].includes(spec.support as string))
        missing.push(`${name}.${param}: no support status`);
      if (spec.support !== 'full' && !spec.note)
        missing.push(`${name}.${param}: support '${spec.support}' without a note saying what is missing`);
    }
  }
  assert.deepEqual(missing, []);
});

test("every orch parameter is one Ansible's module knows (no invented names)", () => {
  const invented: string[] = [];
  for (const [name, mod] of modules) {
    if (mod.spec.anyParams) continue;
    const ansible = ansibleModule(name);
    if (!ansible?.params) continue;
    for (const [param, spec] of Object.entries(mod.spec.params)) {
      for (const n of [param, ...(spec.aliases ?? [])]) {
        if (!ansible.params.has(n) && !(ORCH_ONLY[name] ?? []).includes(n)) invented.push(`${name}.${n}`);
      }
    }
  }
  assert.deepEqual(invented, []);
});

test("every Ansible task keyword is known to orch's loader (none is mistaken for a module)", () => {
  assert.deepEqual(missingTaskKeywords(), []);
});

test("a 'none' parameter set to a non-default value is refused when the task runs, never at load", () => {
  const spec = modules.get('cron')?.spec;
  assert.ok(spec);
  assert.doesNotThrow(() => validateParams('cron', spec, { name: 'x', job: 'true', backup: true }, () => true, true));
  assert.throws(
    () => validateParams('cron', spec, { name: 'x', job: 'true', backup: true }),
    /cron: parameter 'backup' is not implemented by orch/,
  );
  // its default changes nothing: accepted
  assert.doesNotThrow(() => unsupportedParam('cron', spec, { name: 'x', backup: false }));
});

function loadError(yaml: string, files: Record<string, string> = {}): ParseError {
  try {
    loadPlaybook(writePlaybook(yaml, files), { secrets: new Secrets() });
  } catch (err) {
    if (err instanceof ParseError) return err;
    throw err;
  }
  assert.fail('expected a load error');
}

function tasksOf(items: Item[]): Task[] {
  return items.flatMap((i) =>
    i.kind === 'task'
      ? [i]
      : i.kind === 'block'
        ? tasksOf([...i.block, ...i.rescue, ...i.always])
        : tasksOf(i.preloaded ?? []),
  );
}

test('a role with tasks for other OS families loads: modules and parameters Ansible has are left for run time', () => {
  const pb = loadPlaybook(
    writePlaybook('- hosts: all\n  roles: [multi]\n', {
      'roles/multi/tasks/main.yml': `
- name: Arch
  pacman: name=ntp state=present update_cache=yes
  when: ansible_os_family == 'Archlinux'
- name: FreeBSD
  pkgng: name=ntp state=present
  when: ansible_os_family == 'FreeBSD'
- community.general.zypper_repository: name=x repo=http://x
  when: ansible_os_family == 'Suse'
- openbsd_pkg: name=ntp
  when: ansible_os_family == 'OpenBSD'
- package: name=ntp enablerepo=epel
  when: ansible_os_family == 'RedHat'
- apt_repository: repo="deb http://x y main"
  when: ansible_os_family == 'Debian' and false
- get_url: url=http://x/y dest=/tmp/y checksum=sha256:00
  when: false
- unarchive: src=/tmp/y.tgz dest=/opt remote_src=yes
  when: false
- apt: name=ntp dpkg_options=force-confold
  when: false
- community.mysql.mysql_user: name=x
  when: false
- some.other_collection.module_x: anything=1
  when: false
- include_tasks: other.yml
  when: false
`,
      'roles/multi/tasks/other.yml': '- pkg5: name=x\n',
    }),
    { secrets: new Secrets() },
  );
  const tasks = tasksOf(pb.plays[0]?.sections[1] ?? []);
  assert.deepEqual(
    tasks.map((t) => t.module),
    [
      'pacman',
      'pkgng',
      'community.general.zypper_repository',
      'openbsd_pkg',
      'package',
      'apt_repository',
      'get_url',
      'unarchive',
      'apt',
      'community.mysql.mysql_user',
      'some.other_collection.module_x',
      'pkg5',
    ],
  );
});

test('names Ansible does not know stay load errors, with file:line and a suggestion', () => {
  const typo = loadError('- hosts: all\n  tasks:\n    - copyy: src=a dest=b\n');
  assert.match(typo.message, /:3(:\d+)?: unknown module 'copyy' \(did you mean 'copy'\?\)/);
  const pacmanTypo = loadError('- hosts: all\n  tasks:\n    - pacmn: name=x\n      when: false\n');
  assert.match(pacmanTypo.message, /unknown module 'pacmn' \(did you mean 'pacman'\?\)/);
  // a parameter unknown to Ansible, on a module orch lacks
  const param = loadError('- hosts: all\n  tasks:\n    - pacman:\n        nme: x\n');
  assert.match(param.message, /:4(:\d+)?: pacman: unsupported parameter 'nme' \(did you mean 'name'\?\)/);
  // behind a condition (another OS, a newer Ansible's parameter: user password_expire_warn) it loads, as in
  // Ansible, and fails only when a host reaches it
  assert.doesNotThrow(() =>
    loadPlaybook(
      writePlaybook('- hosts: all\n  tasks:\n    - user: name=x password_expire_warn=7\n      when: new_ansible\n'),
      { secrets: new Secrets() },
    ),
  );
  assert.doesNotThrow(() =>
    loadPlaybook(
      writePlaybook('- hosts: all\n  tasks:\n    - block:\n        - pacman:\n            nme: x\n      when: false\n'),
      { secrets: new Secrets() },
    ),
  );
  // on a module orch has: a typo of a parameter Ansible knows but orch does not implement
  const apt = loadError('- hosts: all\n  tasks:\n    - apt: name=x dpkg_optons=y\n');
  assert.match(apt.message, /apt: unsupported parameter 'dpkg_optons' \(did you mean 'dpkg_options'\?\)/);
  const fqcn = loadError('- hosts: all\n  tasks:\n    - community.general.pacmann: name=x\n');
  assert.match(fqcn.message, /unknown module 'community.general.pacmann'/);
});

test('connection, remote_user and keywords orch lacks are kept on the task for run time', () => {
  const pb = loadPlaybook(
    writePlaybook(`
- hosts: all
  connection: local
  remote_user: alice
  strategy: free
  order: sorted
  tasks:
    - command: id
      remote_user: bob
    - command: id
      connection: ssh
      async: 10
      poll: 0
    - command: id
      async: 0
    - command: id
      async: 10
      poll: 2
`),
    { secrets: new Secrets() },
  );
  const play = pb.plays[0];
  assert.equal(play?.connection, 'local');
  assert.equal(play?.strategy, 'free');
  assert.equal(play?.order, 'sorted');
  const [a, b, c, d] = tasksOf(play?.sections[1] ?? []);
  assert.equal(a?.remote_user, 'bob');
  assert.equal(a?.connection, 'local');
  assert.equal(b?.connection, 'ssh');
  assert.equal(b?.remote_user, 'alice');
  assert.deepEqual(b?.notImplemented, ['poll: 0 (async without waiting)']);
  assert.deepEqual(c?.notImplemented, []);
  assert.equal(c?.async, undefined);
  assert.deepEqual(d?.notImplemented, []);
  assert.equal(d?.async, 10);
});

test('corpus shapes load: lookups orch lacks, role library modules, old collection paths, systemd daemon_reload, a missing include behind when', () => {
  const pb = loadPlaybook(
    writePlaybook('- hosts: all\n  roles: [shapes]\n', {
      'roles/shapes/library/my_fingerprint.py': '# a custom module\n',
      'roles/shapes/tasks/main.yml': `
- my_fingerprint: status=begin
- debug: msg={{ item }}
  with_community.general.cartesian: [[1], [2]]
- debug: msg={{ item }}
  with_inventory_hostnames: all
- community.general.packaging.os.zypper: name=x
  when: false
- ansible.builtin.systemd:
    daemon_reload: true
- include_tasks: tasks/sub.yml
- include_tasks: not-there.yml
  when: false
`,
      'roles/shapes/tasks/sub.yml': '- debug: msg=sub\n',
    }),
    { secrets: new Secrets() },
  );
  const items = pb.plays[0]?.sections[1] ?? [];
  const tasks = tasksOf(items);
  assert.equal(tasks[0]?.module, 'my_fingerprint');
  assert.deepEqual(tasks[1]?.notImplemented, ['with_community.general.cartesian']);
  assert.deepEqual(tasks[2]?.notImplemented, ['with_inventory_hostnames']);
  assert.equal(tasks[3]?.module, 'community.general.packaging.os.zypper');
  assert.equal(tasks[4]?.module, 'systemd');
  assert.equal(tasks[5]?.args.msg, 'sub', 'tasks/x.yml from the role root, as Ansible');
  assert.equal(items.at(-1)?.kind, 'include', 'a missing include_tasks file is resolved when reached');
  const typo = loadError('- hosts: all\n  tasks:\n    - debug: msg={{ item }}\n      with_itmes: [1]\n');
  assert.match(typo.message, /'with_itmes' is not a lookup Ansible knows \(did you mean 'with_items'\?\)/);
});

test('orch check lists what orch does not implement (modules, parameters, keywords, strategy, poll: 0 but on command/shell), also in literal includes', () => {
  const pb = loadPlaybook(
    writePlaybook(
      `- hosts: all
  strategy: free
  tasks:
    - pacman: name=x
      when: false
    - apt: name=x autoclean=yes
    - cron: name=x job=true backup=yes
    - copy: dest=/tmp/x content=x
      poll: 0
      async: 5
    - include_tasks: inc.yml
      loop: [1, 2]
    - debug: msg=fine
    - shell: sleep 1
      async: 5
      poll: 0
`,
      { 'inc.yml': '- pkgng: name=x\n  when: false\n- openbsd_pkg: name=x\n' },
    ),
    { secrets: new Secrets() },
  );
  const found = listUnimplemented(pb, new Secrets()).map((u) => `${u.pos.line}: ${u.what}`);
  assert.deepEqual(found, [
    "1: strategy 'free' runs as linear",
    "4: module 'pacman' is not implemented by orch",
    "6: apt: parameter 'autoclean' is not implemented by orch",
    "7: cron: parameter 'backup' is not implemented by orch (no backup of the crontab is made)",
    "8: keyword 'poll: 0 (async without waiting)' is not implemented by orch",
    "1: module 'pkgng' is not implemented by orch",
    "3: module 'openbsd_pkg' is not implemented by orch",
  ]);
});

test('play and block timeout reach their tasks (the play one was dropped); become_flags is refused when reached', () => {
  const pb = loadPlaybook(
    writePlaybook(
      '- hosts: all\n  timeout: 7\n  become_flags: -i\n  tasks:\n    - command: id\n    - block:\n        - command: id\n      timeout: 3\n    - command: id\n      timeout: 1\n',
    ),
    { secrets: new Secrets() },
  );
  const [a, b, c] = tasksOf(pb.plays[0]?.sections[1] ?? []);
  assert.equal(a?.timeout, 7);
  assert.equal(b?.timeout, 3);
  assert.equal(c?.timeout, 1);
  assert.deepEqual(a?.notImplemented, ['become_flags']);
});

test('keywords on a role entry apply to its tasks (remote_user, connection, timeout were taken as role variables)', () => {
  const pb = loadPlaybook(
    writePlaybook(
      '- hosts: all\n  roles:\n    - role: r\n      remote_user: bob\n      connection: local\n      timeout: 4\n      async: 9\n      myvar: 1\n',
      { 'roles/r/tasks/main.yml': '- command: id\n' },
    ),
    { secrets: new Secrets() },
  );
  const [t] = tasksOf(pb.plays[0]?.sections[1] ?? []);
  assert.equal(t?.remote_user, 'bob');
  assert.equal(t?.connection, 'local');
  assert.equal(t?.timeout, 4);
  assert.equal(t?.role?.params.myvar, 1);
  assert.equal(t?.role?.params.remote_user, undefined);
});

test('include_tasks/include_role: keywords for the included tasks go in apply (others refused as Ansible does); a role named in tasks runs each time', () => {
  const bad = loadError('- hosts: all\n  tasks:\n    - include_tasks: x.yml\n      become: yes\n', {
    'x.yml': '- command: id\n',
  });
  assert.match(bad.message, /:4(:\d+)?: 'become' is not a valid attribute for a TaskInclude/);
  const pb = loadPlaybook(
    writePlaybook(
      '- hosts: all\n  tasks:\n    - include_tasks:\n        file: x.yml\n        apply: { become: yes, tags: [t] }\n    - include_role: { name: r }\n    - import_role: { name: r }\n',
      {
        'x.yml': '- command: id\n',
        'roles/r/tasks/main.yml': '- command: whoami\n',
        'roles/r/handlers/main.yml': '- name: h\n  command: "true"\n',
      },
    ),
    { secrets: new Secrets() },
  );
  const tasks = tasksOf(pb.plays[0]?.sections[1] ?? []);
  assert.equal(tasks[0]?.become, true);
  assert.deepEqual(tasks[0]?.tags, ['t']);
  assert.deepEqual(
    tasks.slice(1).map((t) => t.args._raw_params),
    ['whoami', 'whoami'],
  );
  assert.equal(pb.plays[0]?.handlers.length, 1);
});

test('include_role / import_role in k=v form (name=r tasks_from=x) load as the mapping form, as Ansible reads them', () => {
  const pb = loadPlaybook(
    writePlaybook('- hosts: all\n  tasks:\n    - include_role: name=r tasks_from=other\n    - import_role: name=r\n', {
      'roles/r/tasks/main.yml': '- command: whoami\n',
      'roles/r/tasks/other.yml': '- command: hostname\n',
    }),
    { secrets: new Secrets() },
  );
  assert.deepEqual(
    tasksOf(pb.plays[0]?.sections[1] ?? []).map((t) => t.args._raw_params),
    ['hostname', 'whoami'],
  );
});

test("an unnamed include_role is titled '<the action as written> : ROLE', as Ansible titles it (k=v form and FQCN too)", () => {
  const pb = loadPlaybook(
    writePlaybook(
      '- hosts: all\n  tasks:\n    - include_role: name=r\n    - ansible.builtin.include_role: { name: r }\n    - { name: mine, include_role: { name: r } }\n',
      { 'roles/r/tasks/main.yml': '- command: whoami\n' },
    ),
    { secrets: new Secrets() },
  );
  const titles = (pb.plays[0]?.sections[1] ?? []).flatMap((i) => (i.kind === 'include' ? [i.name] : []));
  assert.deepEqual(titles, ['include_role : r', 'ansible.builtin.include_role : r', 'mine']);
});
