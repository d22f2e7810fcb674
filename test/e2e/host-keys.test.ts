import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fault } from '../helpers/faults.js';
import { addressOf, HOSTS, onHost, orch, results, writePlaybook } from '../helpers/lab.js';

// Host keys and ~/.ssh/config as OpenSSH reads them: a host on port 2222 (known_hosts names it `[addr]:port`),
// hashed and @revoked entries, UserKnownHostsFile, HostKeyAlias, ProxyJump chains.
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';
const host = HOSTS[0] as string;
const addr = addressOf(host);
const name = `[${addr}]:2222`;
const keyOf = (h: string) =>
  readFileSync(join(LAB_DIR, 'keys', `${h}.pub`), 'utf8')
    .split(' ')
    .slice(0, 2)
    .join(' ');
const pb = writePlaybook(
  `- hosts: all\n  gather_facts: no\n  tasks:\n    - command: hostname\n      register: hn\n    - assert: { that: "hn.stdout == '${host}'" }\n`,
);

/** A known_hosts file with the given lines, and an inventory reaching the host on port 2222 with it. */
function setup(knownHosts: string): { kh: string; inv: string } {
  const dir = mkdtempSync(join(tmpdir(), 'orch-kh-port-'));
  const kh = join(dir, 'known_hosts');
  writeFileSync(kh, knownHosts);
  const inv = join(dir, 'hosts');
  writeFileSync(
    inv,
    `p2222 ansible_host=${addr} ansible_port=2222 ansible_user=deploy ansible_ssh_private_key_file=${join(LAB_DIR, 'id_ed25519')} orch_known_hosts_file=${kh}\n`,
  );
  return { kh, inv };
}

test('port 2222: a second sshd on the lab host', () => {
  // sshd detaches before it listens: wait for the port
  const r = onHost(
    host,
    '(kill -0 $(cat /run/sshd-2222.pid 2>/dev/null) 2>/dev/null) || /usr/sbin/sshd -p 2222 -o PidFile=/run/sshd-2222.pid -E /var/log/sshd-2222.log; ' +
      'for i in $(seq 100); do ss -ltn | grep -q ":2222 " && exit 0; sleep 0.05; done; exit 1',
  );
  assert.equal(r.code, 0, r.stderr);
});

fault('known key on a non-22 port ([addr]:2222) is accepted', 'exit 0', () => {
  const { inv } = setup(`${name} ${keyOf(host)}\n`);
  const r = orch(['run', inv, pb]);
  assert.equal(r.code, 0, JSON.stringify(results(r)));
  return `exit ${r.code}`;
});

fault('hashed known_hosts entry (|1|) for [addr]:2222 is accepted', 'exit 0', () => {
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  const { inv } = setup(`${hashed} ${keyOf(host)}\n`);
  const r = orch(['run', inv, pb]);
  assert.equal(r.code, 0, JSON.stringify(results(r)));
  return `exit ${r.code}`;
});

fault(
  'changed key on [addr]:2222 is refused, with and without --accept-new-host-keys',
  'exit 3 "REMOTE HOST KEY CHANGED" both times; known_hosts untouched',
  () => {
    const before = `${name} ${keyOf(HOSTS[1] as string)}\n`;
    const { kh, inv } = setup(before);
    for (const extra of [[], ['--accept-new-host-keys']]) {
      const r = orch(['run', inv, pb, ...extra]);
      assert.equal(r.code, 3, `${extra.join(' ')}: ${JSON.stringify(results(r))}`);
      assert.match(results(r)[0]?.msg ?? '', /REMOTE HOST KEY CHANGED for \[[\d.]+\]:2222/);
    }
    assert.equal(readFileSync(kh, 'utf8'), before, 'nothing recorded');
    return 'exit 3 twice; REMOTE HOST KEY CHANGED; known_hosts untouched';
  },
);

fault(
  'unknown key on [addr]:2222: refused without the flag, recorded as [addr]:2222 with it',
  'exit 3, then exit 0 and a `[addr]:2222 ssh-ed25519` line; trusted after',
  () => {
    // a key for the same address on port 22 is another entry: it must not count for port 2222
    const { kh, inv } = setup(`${addr} ${keyOf(host)}\n`);
    const refused = orch(['run', inv, pb]);
    assert.equal(refused.code, 3);
    assert.match(results(refused)[0]?.msg ?? '', /unknown host key for \[[\d.]+\]:2222/);
    const accepted = orch(['run', inv, pb, '--accept-new-host-keys']);
    assert.equal(accepted.code, 0, JSON.stringify(results(accepted)));
    const lines = readFileSync(kh, 'utf8').split('\n').filter(Boolean);
    assert.equal(lines.length, 2);
    assert.equal(lines[1], `${name} ${keyOf(host)}`);
    assert.equal(orch(['run', inv, pb]).code, 0, 'recorded key trusted next time');
    return `exit ${refused.code}, then exit 0; recorded "${name} ssh-ed25519 …"`;
  },
);

fault(
  '@revoked host key is refused even when another line lists it',
  'exit 3 "marked @revoked", with --accept-new-host-keys too',
  () => {
    const { inv } = setup(`${name} ${keyOf(host)}\n@revoked * ${keyOf(host)}\n`);
    const r = orch(['run', inv, pb, '--accept-new-host-keys']);
    assert.equal(r.code, 3);
    assert.match(results(r)[0]?.msg ?? '', /is marked @revoked/);
    return `exit ${r.code}; ${results(r)[0]?.msg}`;
  },
);

fault(
  '~/.ssh/config UserKnownHostsFile and HostKeyAlias decide where and under which name keys are checked',
  'a changed key there is refused even with --accept-new-host-keys; the right key there is accepted',
  () => {
    const home = mkdtempSync(join(tmpdir(), 'orch-home-'));
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    const work = join(home, '.ssh', 'known_hosts_work');
    writeFileSync(join(home, '.ssh', 'config'), `Host ${addr}\n  UserKnownHostsFile ${work}\n`);
    const inv = join(home, 'hosts');
    writeFileSync(
      inv,
      `${host} ansible_host=${addr} ansible_user=deploy ansible_ssh_private_key_file=${join(LAB_DIR, 'id_ed25519')}\n`,
    );
    writeFileSync(work, `${addr} ${keyOf(HOSTS[1] as string)}\n`);
    const changed = orch(['run', inv, pb, '--accept-new-host-keys'], { env: { HOME: home } });
    assert.equal(changed.code, 3, JSON.stringify(results(changed)));
    assert.match(results(changed)[0]?.msg ?? '', /REMOTE HOST KEY CHANGED/);
    writeFileSync(work, `${addr} ${keyOf(host)}\n`);
    const ok = orch(['run', inv, pb], { env: { HOME: home } });
    assert.equal(ok.code, 0, JSON.stringify(results(ok)));
    // HostKeyAlias: the key is looked up under the alias only
    writeFileSync(
      join(home, '.ssh', 'config'),
      `Host ${addr}\n  UserKnownHostsFile ${work}\n  HostKeyAlias Web-Alias\n`,
    );
    writeFileSync(work, `${addr} ${keyOf(host)}\nweb-alias ${keyOf(HOSTS[1] as string)}\n`);
    const aliasChanged = orch(['run', inv, pb, '--accept-new-host-keys'], { env: { HOME: home } });
    assert.equal(aliasChanged.code, 3, JSON.stringify(results(aliasChanged)));
    assert.match(results(aliasChanged)[0]?.msg ?? '', /REMOTE HOST KEY CHANGED for web-alias/);
    writeFileSync(work, `web-alias ${keyOf(host)}\n`);
    assert.equal(orch(['run', inv, pb], { env: { HOME: home } }).code, 0, 'the key under the alias is accepted');
    return `changed key in UserKnownHostsFile: exit ${changed.code}; right key: exit ${ok.code}; HostKeyAlias: changed refused, right accepted`;
  },
);

fault(
  'ProxyJump with two hops goes through both',
  'exit 0; the second hop (here the same bastion again) logged a login from the bastion itself; the host one from the bastion',
  () => {
    const bastion = HOSTS[1] as string;
    const baddr = addressOf(bastion);
    const home = mkdtempSync(join(tmpdir(), 'orch-home-'));
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(
      join(home, '.ssh', 'config'),
      `Host ${addr}\n  ProxyJump deploy@${baddr},deploy@${baddr}\n  UserKnownHostsFile ${join(LAB_DIR, 'known_hosts')}\n`,
    );
    const inv = join(home, 'hosts');
    writeFileSync(
      inv,
      `${host} ansible_host=${addr} ansible_user=deploy ansible_ssh_private_key_file=${join(LAB_DIR, 'id_ed25519')}\n`,
    );
    const fromBastion = (h: string) =>
      Number(
        onHost(
          h,
          `grep -c "Accepted publickey for deploy from ${baddr} " /var/log/orch-lab-sshd.log || true`,
        ).stdout.trim(),
      );
    const before = { bastion: fromBastion(bastion), host: fromBastion(host) };
    const r = orch(['run', inv, pb], { env: { HOME: home } });
    assert.equal(r.code, 0, JSON.stringify(results(r)));
    assert.equal(fromBastion(bastion) - before.bastion, 1, 'second hop reached through the first');
    assert.equal(fromBastion(host) - before.host, 1, 'the host reached through the last hop');
    return 'exit 0; bastion logged 1 login from itself (hop 2), host 1 login from the bastion';
  },
);

test('port 2222: stop the second sshd', () => {
  onHost(host, 'kill $(cat /run/sshd-2222.pid) 2>/dev/null; true');
});
