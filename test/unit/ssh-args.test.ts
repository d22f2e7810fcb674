import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sshTargetFor } from '../../src/executor/connections.js';
import { JumpHosts } from '../../src/transport/jump.js';
import { parseSshArgs } from '../../src/transport/ssh-args.js';
import { VarScope } from '../../src/template/scope.js';
import type { Client } from 'ssh2';
import { Secrets } from '../../src/core/secrets.js';

const OPTS = { acceptNewHostKeys: false, connectTimeoutMs: 1000 };
const scope = (vars: Record<string, unknown>) =>
  new VarScope([{ name: 'inventory', vars, templated: false }], (v) => v, { lookupPaths: [], secrets: new Secrets() });

test('ssh args: -F, -o Key=Value / -o Key Value / -oKey=V, -J, -p, -l, -i; flags without values skipped; ProxyCommand refused', () => {
  assert.deepEqual(
    parseSshArgs(
      "-F /x/ssh_config -C -o 'ProxyJump=deploy@bastion:22' -oPort=2222 -q",
      '-o "User admin" -J b2 -p 2200 -l u -i /k -4',
    ),
    {
      configFile: '/x/ssh_config',
      lines: [
        'ProxyJump deploy@bastion:22',
        'Port 2222',
        'User admin',
        'ProxyJump b2',
        'Port 2200',
        'User u',
        'IdentityFile /k',
      ],
    },
  );
  assert.deepEqual(parseSshArgs('-o ControlMaster=auto -o ControlPersist=60s'), {
    lines: ['ControlMaster auto', 'ControlPersist 60s'],
  });
  assert.throws(() => parseSshArgs('-o ProxyCommand="nc %h %p"'), /ProxyCommand is not supported by orch/);
  assert.throws(() => parseSshArgs('-o'), /needs a value/);
  assert.throws(() => parseSshArgs('bastion'), /unexpected word 'bastion'/);
});

test('ansible_ssh_common_args: ProxyJump through an alias of the -F ssh_config (HostName, User, Port, IdentityFile, known hosts of the alias); ansible_port beats -o Port, which beats the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-sshargs-'));
  const cfg = join(dir, 'ssh_config');
  writeFileSync(
    cfg,
    [
      'Host bastion',
      '  HostName 192.0.2.7',
      '  User jump',
      '  Port 2200',
      `  IdentityFile ${dir}/bastion_key`,
      `  UserKnownHostsFile ${dir}/bastion_known`,
      'Host 10.9.*',
      '  Port 2022',
      '  User fromfile',
      '',
    ].join('\n'),
  );
  const t = sshTargetFor(
    'web1',
    scope({ ansible_host: '10.9.0.5', ansible_ssh_common_args: `-F ${cfg} -o ProxyJump=bastion -o User=fromargs` }),
    OPTS,
  );
  assert.equal(t.address, '10.9.0.5');
  assert.equal(t.port, 2022, "the file's Port (no ansible_port, no -o Port)");
  assert.equal(t.user, 'fromargs', '-o User wins over the file');
  assert.ok(t.proxyJump);
  assert.deepEqual(
    [t.proxyJump.address, t.proxyJump.port, t.proxyJump.user],
    ['192.0.2.7', 2200, 'jump'],
    'the hop is the alias as the ssh_config defines it, without the -o options',
  );
  assert.equal(t.proxyJump.privateKeyFiles[0], `${dir}/bastion_key`);
  assert.equal(t.proxyJump.knownHostsFiles[0], `${dir}/bastion_known`);
  const p = sshTargetFor(
    'web1',
    scope({ ansible_host: '10.9.0.5', ansible_port: 2222, ansible_ssh_common_args: `-F ${cfg} -o Port=2300` }),
    OPTS,
  );
  assert.equal(p.port, 2222);
  assert.equal(p.proxyJump, undefined);
  assert.throws(
    () => sshTargetFor('web1', scope({ ansible_ssh_common_args: `-F ${dir}/missing` }), OPTS),
    /cannot read ssh config file/,
  );
  assert.throws(
    () => sshTargetFor('web1', scope({ ansible_ssh_common_args: '-o ProxyCommand=nc' }), OPTS),
    /ProxyCommand/,
  );
});

test('jump hosts: one bastion connection shared by the hosts behind it, closed when the last one releases it, opened again after', async () => {
  const opened: string[] = [];
  const ended: string[] = [];
  const fake = (name: string) => ({ once: () => undefined, end: () => ended.push(name) }) as unknown as Client;
  const connect = async (t: { address: string }) => {
    opened.push(t.address);
    const client = fake(t.address);
    return { client, release: () => client.end() };
  };
  const jumps = new JumpHosts();
  const bastion = { address: 'b', port: 22, user: 'deploy', privateKeyFiles: ['/k'] };
  const [a, b] = await Promise.all([jumps.acquire(bastion, connect), jumps.acquire({ ...bastion }, connect)]);
  const other = await jumps.acquire({ ...bastion, user: 'root' }, connect);
  assert.deepEqual(opened, ['b', 'b'], 'two hosts as deploy share one connection; another login is another one');
  a.release();
  a.release();
  assert.deepEqual(ended, [], 'still used by the second host (a double release counts once)');
  b.release();
  assert.deepEqual(ended, ['b']);
  other.release();
  await jumps.acquire(bastion, connect);
  assert.equal(opened.length, 3);
});
