import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostAt, labConfig, MAX_LAB_HOSTS, parseLabProfile } from '../../src/lab/config.js';
import { hostProcess } from '../../src/lab/host.js';
import { labGroups } from '../../src/lab/inventory.js';

const env = { ORCH_LAB_PREFIX: 'zz', ORCH_LAB_SUBNET: '10.240.4', ORCH_LAB_DIR: '/nonexistent/orch-zz' };

test('labConfig: names and paths follow ORCH_LAB_*; the inner subnet is the next /22; no state dir means plain', () => {
  const cfg = labConfig(env, '/repo');
  assert.equal(cfg.prefix, 'zz');
  assert.equal(cfg.bridge, 'orchzzbr');
  assert.equal(cfg.inventoryFile, '/repo/inventory/zz');
  assert.equal(cfg.innerSubnet, '10.240.8');
  assert.equal(cfg.profile, 'plain');
  assert.equal(cfg.init, 'initd');
});

test('hostAt: 240 hosts per /24 from .11, so host 241 is on the next octet; a production host 2+ is inner on 2222', () => {
  const cfg = labConfig(env, '/repo');
  assert.deepEqual(hostAt(cfg, 1), { name: 'zz1', address: '10.240.4.11', netns: 'orch-zz-1', port: 22, inner: false });
  assert.equal(hostAt(cfg, 240).address, '10.240.4.250');
  assert.equal(hostAt(cfg, 241).address, '10.240.5.11');
  assert.equal(hostAt(cfg, MAX_LAB_HOSTS).address, '10.240.7.250');
  const prod = { ...cfg, profile: 'production' as const };
  assert.equal(hostAt(prod, 1).inner, false);
  assert.deepEqual([hostAt(prod, 2).address, hostAt(prod, 2).port, hostAt(prod, 2).inner], ['10.240.8.12', 2222, true]);
  assert.throws(() => parseLabProfile('prod'), /unknown lab profile 'prod'/);
});

test('labGroups: the stack on 1, 2 and 4 hosts (lb first, db last, web between)', () => {
  assert.deepEqual(labGroups(['a']), { lb: ['a'], web: ['a'], db: ['a'] });
  assert.deepEqual(labGroups(['a', 'b']), { lb: ['a'], web: ['a'], db: ['b'] });
  assert.deepEqual(labGroups(['a', 'b', 'c', 'd']), { lb: ['a'], web: ['b', 'c'], db: ['d'] });
});

test('hostProcess: a pid file is trusted only while its process is that host (a reused pid is a stranger)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-lab-pid-'));
  mkdirSync(join(dir, 'run'));
  const cfg = labConfig({ ...env, ORCH_LAB_DIR: dir }, '/repo');
  const h = hostAt(cfg, 1);
  // stands for `… host.sh zz1 STATE_DIR initd`
  const host = spawn('sh', ['-c', 'sleep 30', 'host.sh', h.name, dir, 'initd']);
  t.after(() => host.kill());
  await new Promise((resolve) => host.once('spawn', resolve));
  writeFileSync(join(dir, 'run', `${h.name}.pid`), `${host.pid}\n`);
  assert.equal(hostProcess(cfg, h), host.pid);
  writeFileSync(join(dir, 'run', `${h.name}.pid`), `${process.pid}\n`);
  assert.equal(hostProcess(cfg, h), undefined, 'this test runner now has the number');
  writeFileSync(join(dir, 'run', `${h.name}.pid`), '999999999\n');
  assert.equal(hostProcess(cfg, h), undefined, 'no such process');
});
