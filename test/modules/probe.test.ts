import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseStat } from '../../src/modules/remote-file.js';
import { perlString, statProbe } from '../../src/modules/probe.js';
import { perlProbe } from '../../src/transport/probe-command.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { addressOf, HOSTS, onHost } from '../helpers/lab.js';

/**
 * Probes are evaluated inside the command runner (no process) but are also plain shell commands (a perl
 * process). Both must say what independent tools (stat, sha1sum, base64, getent) say.
 */
const host = HOSTS[0] as string;
const base = '/srv/orch-probe-test';
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';
let ssh: SshTransport;

before(async () => {
  ssh = await SshTransport.connect({
    name: host,
    address: addressOf(host),
    port: 22,
    user: 'deploy',
    privateKeyFiles: [`${LAB_DIR}/id_ed25519`],
    knownHostsFiles: [`${LAB_DIR}/known_hosts`],
    acceptNewHostKeys: false,
    connectTimeoutMs: 20_000,
  });
  const setup = onHost(
    host,
    [
      `rm -rf ${base} && mkdir -p ${base}/dir`,
      `printf 'hello\\nworld\\n' > ${base}/text`,
      `head -c 3000 /dev/urandom > ${base}/binary`,
      `: > ${base}/empty`,
      `ln -s ${base}/text ${base}/link`,
      `ln -s ${base}/missing ${base}/dangling`,
      `printf x > "${base}/it's odd" && chown 54321:54322 "${base}/it's odd" && chmod 4751 "${base}/it's odd"`,
      `mkfifo ${base}/fifo`,
    ].join(' && '),
  );
  assert.equal(setup.code, 0, setup.stderr);
});

after(async () => {
  await ssh?.close();
  onHost(host, `rm -rf ${base}`);
});

/** What stat/readlink/sha1sum/base64 on the host say about a path, as parseStat's fields. */
function expected(path: string): ReturnType<typeof parseStat> {
  const q = `'${path.replace(/'/g, `'\\''`)}'`;
  const r = onHost(
    host,
    `if [ -L ${q} ] || [ -e ${q} ]; then stat -c '%F|%a|%U|%G|%s|%u|%g' -- ${q}; echo "L|$(readlink -- ${q})"; if [ -f ${q} ]; then echo "H|$(sha1sum < ${q} | cut -c1-40)"; echo "C|$(base64 -w0 < ${q})"; fi; else echo A; fi`,
  );
  const s = r.stdout.split('\n')[0] ?? '';
  const tagged = (t: string) => new RegExp(`^${t}\\|(.*)$`, 'm').exec(r.stdout)?.[1];
  const [link, sha, b64] = [tagged('L'), tagged('H'), tagged('C')];
  if (s === 'A') return { exists: false };
  const [type = '', mode = '', owner, group, size, uid, gid] = s.split('|');
  return {
    exists: true,
    type: type.includes('symbolic')
      ? 'link'
      : type.includes('directory')
        ? 'directory'
        : type.includes('regular')
          ? 'file'
          : 'other',
    mode: mode.padStart(4, '0'),
    owner: owner === 'UNKNOWN' ? undefined : owner,
    group: group === 'UNKNOWN' ? undefined : group,
    uid: Number(uid),
    gid: Number(gid),
    size: Number(size),
    ...(link ? { linkTarget: link } : {}),
    ...(sha ? { sha1: sha, content: Buffer.from(b64 ?? '', 'base64') } : {}),
  };
}

function normalise(f: ReturnType<typeof parseStat>, uid?: string, gid?: string): ReturnType<typeof parseStat> {
  // stat prints UNKNOWN for ids without a name, the probe prints the number; umask and creator are the runner's, not
  // the file's
  const { umask: _umask, creator: _creator, ...file } = f;
  return {
    ...file,
    ...(f.owner === uid ? { owner: undefined } : {}),
    ...(f.group === gid ? { group: undefined } : {}),
  };
}

test('stat probe: in the runner and as a process, the same as stat/sha1sum/base64 on the host', async () => {
  const sudo = { become: { user: 'root' } };
  for (const name of ['text', 'binary', 'empty', 'dir', 'link', 'dangling', "it's odd", 'fifo', 'nothing-here']) {
    const path = `${base}/${name}`;
    const want = expected(path);
    const inRunner = await ssh.exec(statProbe(path, true), sudo);
    assert.equal(inRunner.rc, 0, inRunner.stderr);
    const asProcess = onHost(host, statProbe(path, true));
    assert.equal(asProcess.code, 0, asProcess.stderr);
    assert.equal(inRunner.stdout, asProcess.stdout, `${name}: runner and process agree`);
    assert.deepEqual(normalise(parseStat(inRunner.stdout), '54321', '54322'), want, name);
  }
  // Without content: no C| line, the hash still there.
  const noContent = parseStat((await ssh.exec(statProbe(`${base}/text`, false), sudo)).stdout);
  assert.equal(noContent.content, undefined);
  assert.equal(noContent.sha1, expected(`${base}/text`).sha1);
});

test('a probe that dies reports rc 1 and the error; the runner keeps going', async () => {
  const bad = await ssh.exec(perlProbe('die "no such thing\\n";'));
  assert.equal(bad.rc, 1);
  assert.match(bad.stderr, /no such thing/);
  const good = await ssh.exec(perlProbe(`print ${perlString('a\'b"c $x')};`));
  assert.deepEqual([good.rc, good.stdout], [0, 'a\'b"c $x']);
  // an ordinary command still runs as a process after
  assert.equal((await ssh.exec('echo $$ >/dev/null; printf ok')).stdout, 'ok');
});
