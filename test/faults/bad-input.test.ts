import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorLines, fault } from '../helpers/faults.js';
import { INVENTORY, orch, ROOT, writePlaybook } from '../helpers/lab.js';

// Bad input is found before any connection: exit 4 (or 5 for command-line mistakes), the message names
// file:line and what to do, and no play starts (so no target can be touched).

function runBad(yaml: string, files: Record<string, string> = {}, extra: string[] = []) {
  const pb = writePlaybook(yaml, files);
  const r = orch(['run', INVENTORY, pb, ...extra], { json: false });
  assert.doesNotMatch(r.stdout, /PLAY \[/, 'no play started');
  return { ...r, pb, dir: dirname(pb), err: errorLines(r.stderr) };
}

function expectBad(
  yaml: string,
  code: number,
  message: RegExp,
  files: Record<string, string> = {},
  extra: string[] = [],
): string {
  const r = runBad(yaml, files, extra);
  assert.equal(r.code, code, r.stderr);
  assert.match(r.err, message);
  return `exit ${r.code}; ${r.err}`;
}

const play = (tasks: string) => `- hosts: all\n  gather_facts: no\n  tasks:\n${tasks}`;

fault('malformed YAML (unclosed flow mapping)', 'exit 4, file:line:col, YAML syntax error, hint', () =>
  expectBad(
    play('    - debug: {msg: hi\n'),
    4,
    /playbook\.yml:\d+:\d+: YAML syntax error: .* hint: Check the indentation/,
  ),
);

fault('tab used for indentation', 'exit 4, file:line of the tab, "replace the tab"', () =>
  expectBad('- hosts: all\n\ttasks: []\n', 4, /playbook\.yml:2: tab character used for indentation .*replace the tab/),
);

fault('duplicate key in a mapping', "runs with the last value and Ansible's duplicate-key warning", () => {
  const r = orch(
    [
      'run',
      INVENTORY,
      writePlaybook(play('    - debug: msg=a\n      name: one\n      name: two\n')),
      '--limit',
      'all[0]',
    ],
    { json: false },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /found a duplicate dict key \(name\) at line 6\. Using last defined value only/);
  assert.match(r.stdout, /two/);
  return 'exit 0, warning, last value used';
});

fault('unquoted "{{ }}" value', 'exit 4, file:line, "must be quoted"', () =>
  expectBad(
    play('    - debug:\n        msg: {{ greeting }}\n'),
    4,
    /playbook\.yml:5:\d+: a value starting with "\{\{" must be quoted/,
  ),
);

fault('unknown module', 'exit 4, file:line, "did you mean"', () =>
  expectBad(play('    - debg: msg=hi\n'), 4, /playbook\.yml:4: unknown module 'debg' \(did you mean 'debug'\?\)/),
);

fault('mistyped module parameter', 'exit 4, file:line, suggestion', () =>
  expectBad(
    play('    - file:\n        path: /tmp/x\n        state: directory\n        moed: "0755"\n'),
    4,
    /playbook\.yml:7: file: unsupported parameter 'moed' \(did you mean 'mode'\?\) +hint: Supported parameters: /,
  ),
);

fault('parameter of the wrong type', 'exit 4, file:line, the type wanted and the value', () =>
  expectBad(
    play('    - wait_for: port=eighty\n'),
    4,
    /playbook\.yml:4: wait_for: parameter 'port' must be an integer, got "eighty"/,
  ),
);

fault('task keyword of the wrong type', 'exit 4, file:line, "expected a whole number"', () =>
  expectBad(
    play('    - command: echo\n      retries: lots\n      until: false\n'),
    4,
    /playbook\.yml:5: retries: expected a whole number of attempts, got "lots"/,
  ),
);

fault('value outside the choices', 'exit 4, the choices listed', () =>
  expectBad(
    play('    - file: path=/x state=presnt\n'),
    4,
    /file: parameter 'state' must be one of absent, directory, file, hard, link, touch, got 'presnt'/,
  ),
);

fault(
  'missing required parameter',
  'as Ansible: loads, fails when a host reaches it with "missing required arguments"',
  () => {
    const r = orch(['run', INVENTORY, writePlaybook(play('    - copy: content=x\n')), '--limit', 'all[0]'], {
      json: false,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, /missing required arguments: dest/);
    return 'exit 2, missing required arguments: dest';
  },
);

fault('unknown play keyword', 'exit 4, suggestion', () =>
  expectBad(
    '- hosts: all\n  hostz: x\n  tasks: []\n',
    4,
    /playbook\.yml:2: 'hostz' is not a valid play keyword \(did you mean 'hosts'\?\)/,
  ),
);

fault('recursive include_tasks', 'exit 4, the include chain', () =>
  expectBad(play('    - include_tasks: again.yml\n'), 4, /recursive include: .*again\.yml -> .*again\.yml/, {
    'again.yml': '- include_tasks: again.yml\n',
  }),
);

fault('recursive role dependency', 'exit 4, the dependency chain, "remove the dependency"', () =>
  expectBad('- hosts: all\n  roles: [a]\n', 4, /recursive role dependency: a -> b -> a .*Remove the dependency/, {
    'roles/a/meta/main.yml': 'dependencies: [b]\n',
    'roles/a/tasks/main.yml': '[]\n',
    'roles/b/meta/main.yml': 'dependencies: [a]\n',
    'roles/b/tasks/main.yml': '[]\n',
  }),
);

fault('recursive import_playbook', 'exit 4, the import chain', () =>
  expectBad('- import_playbook: playbook.yml\n', 4, /recursive import_playbook: .*playbook\.yml -> .*playbook\.yml/),
);

fault('missing role', 'exit 4, file:line, where it looked', () =>
  expectBad('- hosts: all\n  roles: [nosuchrole]\n', 4, /playbook\.yml:2: role 'nosuchrole' not found \(searched .*\)/),
);

fault('missing tasks file for include_tasks', 'exit 4, names the file', () =>
  expectBad(play('    - include_tasks: nothere.yml\n'), 4, /nothere\.yml/),
);

fault('bad inventory pattern (--limit)', 'exit 5, the term that matches nothing, the known groups', () =>
  expectBad(
    play('    - debug: msg=hi\n'),
    5,
    /--limit 'nosuchgroup': 'nosuchgroup' matches no host or group .* hint: Known groups: /,
    {},
    ['--limit', 'nosuchgroup'],
  ),
);

fault('inventory that does not exist', 'exit 5, where it looked', () => {
  const r = orch(['run', 'no-such-inventory', writePlaybook(play('    - debug: msg=hi\n'))], { json: false });
  assert.equal(r.code, 5);
  assert.match(
    r.stderr,
    /inventory 'no-such-inventory' not found \(looked for no-such-inventory and inventory\/no-such-inventory\)/,
  );
  return `exit ${r.code}; ${errorLines(r.stderr)}`;
});

fault('malformed INI inventory line', 'exit 4, inventory file:line', () => {
  const inv = join(dirname(writePlaybook('')), 'hosts');
  writeFileSync(inv, '[web]\nweb1 ansible_host=10.0.0.1 =broken\n');
  const r = orch(['run', inv, writePlaybook(play('    - debug: msg=hi\n'))], { json: false });
  assert.equal(r.code, 4);
  assert.match(r.stderr, /hosts:2: expected key=value after host 'web1', got '=broken'/);
  return `exit ${r.code}; ${errorLines(r.stderr)}`;
});

fault('invalid -e JSON', 'exit 5, "not valid JSON/YAML", the accepted forms', () =>
  expectBad(play('    - debug: msg=hi\n'), 5, /-e '\{"a":': not valid JSON\/YAML.*hint: Use -e name=value/, {}, [
    '-e',
    '{"a":',
  ]),
);

/** A copy of the lab inventory whose group_vars/all/vault.yml was encrypted by ansible-vault (fixture). */
function vaultedInventory(): string {
  const dir = dirname(writePlaybook(''));
  mkdirSync(join(dir, 'inv', 'group_vars', 'all'), { recursive: true });
  writeFileSync(join(dir, 'inv', 'hosts'), readFileSync(INVENTORY, 'utf8'));
  writeFileSync(
    join(dir, 'inv', 'group_vars', 'all', 'vault.yml'),
    readFileSync(join(ROOT, 'test', 'fixtures', 'vault', 'secrets.yml'), 'utf8'),
  );
  writeFileSync(join(dir, 'pw'), 'not the password\n');
  return dir;
}

fault('vaulted group_vars without a vault password', 'exit 4, names the file, how to give the password', () => {
  const dir = vaultedInventory();
  const r = orch(['run', join(dir, 'inv'), writePlaybook(play('    - debug: msg=hi\n'))], {
    json: false,
    env: { ORCH_VAULT_PASSWORD_FILE: '', ANSIBLE_VAULT_PASSWORD_FILE: '' },
  });
  assert.equal(r.code, 4);
  assert.match(
    r.stderr,
    /group_vars\/all\/vault\.yml is encrypted with ansible-vault and no vault password was given\n {2}hint: Give one with --vault-password-file FILE/,
  );
  return `exit ${r.code}; ${errorLines(r.stderr)}`;
});

fault('wrong vault password', 'exit 4, "wrong vault password", names the file', () => {
  const dir = vaultedInventory();
  const r = orch(
    ['run', join(dir, 'inv'), writePlaybook(play('    - debug: msg=hi\n')), '--vault-password-file', join(dir, 'pw')],
    { json: false },
  );
  assert.equal(r.code, 4);
  assert.match(r.stderr, /group_vars\/all\/vault\.yml: wrong vault password/);
  return `exit ${r.code}; ${errorLines(r.stderr)}`;
});

fault('unknown command-line option', 'exit 5, names the option', () => {
  const r = orch(['run', INVENTORY, 'x.yml', '--chekc'], { json: false });
  assert.equal(r.code, 5);
  assert.match(r.stderr, /Unknown option '--chekc'/);
  return `exit ${r.code}; ${errorLines(r.stderr)}`;
});
