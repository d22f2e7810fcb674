import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertUnitsUp, rebootDrill, siteConverges, stackUnits } from '../helpers/drills.js';
import {
  addressOf,
  failures,
  HOSTS,
  INVENTORY,
  onHost,
  orch,
  PRODUCTION,
  ROOT,
  sshArgv,
  writePlaybook,
} from '../helpers/lab.js';
import type { RunEvent } from '../../src/core/events.js';

// `orch lab up --profile production` (test/run.mjs brings it up for test/production/): the shape of
// inventory/production behind a bastion. Site apply, a converged run and reboot survival; the deploy,
// rolling restart and backup drills run on it with `npm run test:production` (see the README).
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '';
const PREFIX = process.env.ORCH_LAB_PREFIX ?? '';
const [lb, web1, web2, db] = HOSTS as [string, string, string, string];
const skip = !PRODUCTION && 'runs on the production profile (test/run.mjs runs test/production/ on one)';

/** Whether an SSH server answers at address:port from the control machine within `ms`. */
function bannerFromControl(address: string, port: number, ms = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port, timeout: ms });
    const done = (v: boolean) => {
      sock.destroy();
      resolve(v);
    };
    sock.once('data', (d) => done(d.toString().startsWith('SSH-')));
    sock.once('timeout', () => done(false));
    sock.once('error', () => done(false));
    setTimeout(() => done(false), ms + 500);
  });
}

/** Logins the bastion's sshd accepted so far (its log, read from its layer on the control machine). */
function bastionLogins(): number {
  const log = join(LAB_DIR, 'hosts', `${PREFIX}1`, 'upper', 'var', 'log', 'orch-lab-sshd.log');
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.includes('Accepted publickey')).length;
}

function groupsOf(hostsFile: string): string[] {
  return [...readFileSync(hostsFile, 'utf8').matchAll(/^\[([^\]]+)\]$/gm)].map((m) => m[1] as string);
}

test(
  'production profile: the hosts of inventory/production behind a bastion; not reachable from the control machine, sshd on 2222, known_hosts [addr]:2222, sudo asks for the password kept in a vault file',
  { skip },
  async () => {
    assert.deepEqual(
      groupsOf(join(INVENTORY, 'hosts')),
      groupsOf(join(ROOT, 'inventory', 'production', 'hosts')),
      'same groups as the documented example',
    );
    const direct = await Promise.all(HOSTS.map((h) => bannerFromControl(addressOf(h), 2222)));
    assert.deepEqual(
      direct,
      HOSTS.map(() => false),
      'no SSH from the control machine directly',
    );
    for (const h of HOSTS) {
      assert.doesNotMatch(
        spawnSync('ip', ['route', 'get', addressOf(h)], { encoding: 'utf8' }).stdout,
        /orch\S*ib/,
        `${h}: no route into the inner bridge`,
      );
      const via = onHost(
        h,
        'hostname; for p in 2222 22; do ss -Hltn "sport = :$p" | grep -q . && echo "listens on $p"; done; cat /proc/1/comm',
      );
      assert.deepEqual(
        via.stdout.trim().split('\n'),
        [h, 'listens on 2222', 'systemd'],
        `${h} through the bastion: its name, sshd on 2222 only, systemd (${via.stderr})`,
      );
      const nopass = spawnSync('ssh', [...sshArgv(h), 'sudo -n true'], { encoding: 'utf8' });
      assert.notEqual(nopass.status, 0, `${h}: sudo without the password is refused`);
      assert.match(nopass.stderr, /a password is required/);
    }
    const known = readFileSync(join(LAB_DIR, 'known_hosts'), 'utf8');
    for (const h of HOSTS)
      assert.match(known, new RegExp(`^\\[${addressOf(h).replace(/\./g, '\\.')}\\]:2222 ssh-ed25519 `, 'm'));
    assert.match(
      readFileSync(join(INVENTORY, 'group_vars', 'all', 'vault.yml'), 'utf8'),
      /^\$ANSIBLE_VAULT;1\.1;AES256\n/,
    );
    const pb = writePlaybook(
      '- hosts: all\n  become: yes\n  gather_facts: no\n  tasks:\n    - command: id -un\n      changed_when: false\n',
    );
    const locked = orch(['run', INVENTORY, pb], { env: { ORCH_VAULT_PASSWORD_FILE: '' } });
    assert.equal(locked.code, 4, 'without the vault password nothing runs');
    assert.match(locked.stderr, /vault/i);
    const r = orch(['run', INVENTORY, pb]);
    assert.equal(r.code, 0, failures(r));
    // the other commands that load the inventory read the vault password too (they used to fail on it)
    const graph = orch(['inventory', INVENTORY, '--graph'], { json: false });
    assert.equal(graph.code, 0, graph.stderr);
    assert.match(graph.stdout, /\|--@web:\n\s+\|--web1\n\s+\|--web2/);
    const locks = orch(['lock', 'status', INVENTORY], { json: false });
    assert.equal(locks.code, 0, locks.stderr);
    for (const h of HOSTS)
      assert.match(
        locks.stdout,
        new RegExp(`^  ${h}: not locked$`, 'm'),
        `${h}'s deploy lock read through the bastion with sudo's password`,
      );
  },
);

const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;
test(
  "the working inventory is Ansible's too: ansible-playbook reaches every host through the bastion and becomes root with the vaulted password",
  { skip: skip || (!hasAnsible && 'ansible-playbook not installed') },
  () => {
    const pb = writePlaybook(
      '- hosts: all\n  become: yes\n  gather_facts: no\n  tasks:\n    - command: id -un\n      register: r\n      changed_when: false\n    - assert: { that: r.stdout == "root" }\n',
    );
    const a = spawnSync(
      'ansible-playbook',
      [
        '-i',
        INVENTORY,
        pb,
        '--vault-password-file',
        join(LAB_DIR, 'vault-pass'),
        '-e',
        'ansible_python_interpreter=/usr/bin/python3',
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_NOCOLOR: '1' },
        timeout: 300_000,
      },
    );
    assert.equal(a.status, 0, a.stdout + a.stderr);
    for (const h of HOSTS) assert.match(a.stdout, new RegExp(`^${h} +: ok=2 +changed=0 +unreachable=0 +failed=0`, 'm'));
  },
);

function recapOf(run: { events: RunEvent[] }): Extract<RunEvent, { type: 'recap' }> {
  const recap = run.events.find((e): e is Extract<RunEvent, { type: 'recap' }> => e.type === 'recap');
  assert.ok(recap);
  return recap;
}

test(
  'site.yml through the bastion: converges (second run changed=0) with one connection to the bastion per run; every service an enabled systemd unit; all come back after a reboot',
  { skip },
  () => {
    const before = bastionLogins();
    const { first, second } = siteConverges(INVENTORY);
    assert.equal(
      bastionLogins() - before,
      2,
      "one bastion login per run, shared by the four hosts (ssh-hardening's fresh login too)",
    );
    for (const [name, run] of [
      ['first', first],
      ['converged', second],
    ] as const) {
      const recap = recapOf(run);
      process.stdout.write(
        `# production profile, site.yml ${name} run: ${(recap.durationMs / 1000).toFixed(1)} s, round trips ${JSON.stringify(recap.roundTrips)}\n`,
      );
    }
    const units = stackUnits(lb, [web1, web2], db);
    assertUnitsUp(units, 'after the apply');
    rebootDrill(units, lb);
  },
);
