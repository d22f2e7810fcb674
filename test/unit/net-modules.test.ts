import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from '../../src/modules/fetch.js';
import { getUrl } from '../../src/modules/get-url.js';
import { git } from '../../src/modules/git.js';
import { perlProbe } from '../../src/transport/probe-command.js';
import { quote } from '../../src/transport/quote.js';

const HOSTILE = "x'; touch /tmp/pwned; echo '$(id)`id`";

/** A context that records every command and its stdin, answering each with `reply`. */
function recorder(reply: (cmd: string) => string) {
  const ran: { cmd: string; stdin: string }[] = [];
  const run = async (cmd: string, opts?: { stdin?: string | Buffer }) => (
    ran.push({ cmd, stdin: String(opts?.stdin ?? '') }),
    { rc: 0, stdout: reply(cmd), stderr: '' }
  );
  // a probe is recorded in its shell form, as the executor sends it
  const probe = (code: string) => run(perlProbe(code));
  const ctx = { host: 'h', check: false, diff: false, vars: { get: () => undefined }, run, probe } as never;
  return { ctx, ran };
}

test('get_url and git: user values (url, dest, password, repo, version) reach the host only as JSON on stdin, never in a command', async () => {
  const g = recorder(() => JSON.stringify({ changed: false, dest: '/d' }));
  await getUrl.run(g.ctx, {
    url: `http://h/${HOSTILE}`,
    dest: `/d/${HOSTILE}`,
    url_username: 'u',
    url_password: `pw-${HOSTILE}`,
    headers: { 'X-A': HOSTILE },
    timeout: 10,
  });
  for (const { cmd } of g.ran) assert.ok(!cmd.includes('pwned') && !cmd.includes('pw-'), cmd.slice(0, 200));
  assert.ok(
    g.ran.some(({ stdin }) => JSON.parse(stdin || '{}').url_password === `pw-${HOSTILE}`),
    'the password goes on stdin',
  );
  const r = recorder(() => JSON.stringify({ changed: false, before: 'a', after: 'a' }));
  await git.run(r.ctx, { repo: `/srv/${HOSTILE}`, dest: `/d/${HOSTILE}`, version: `v-${HOSTILE}` });
  for (const { cmd } of r.ran) assert.ok(!cmd.includes('pwned'), cmd.slice(0, 200));
});

test('git: a repo, version, remote or reference that git would read as an option (--upload-pack=...) is refused', async () => {
  const r = recorder(() => JSON.stringify({ changed: false }));
  for (const [k, v] of [
    ['repo', '--upload-pack=touch /tmp/p'],
    ['version', '--orphan=x'],
    ['remote', '-u'],
    ['reference', '--config=x'],
    ['refspec', '--x'],
  ]) {
    await assert.rejects(
      git.run(r.ctx, { repo: '/srv/r', dest: '/d', version: 'HEAD', remote: 'origin', [k as string]: v }),
      /must not begin with '-'/,
      k,
    );
  }
  assert.equal(r.ran.length, 0, 'nothing ran');
});

test('fetch: src reaches the shell quoted, ~user expanded through getent with the name quoted', async () => {
  const r = recorder((cmd) => (cmd.startsWith('getent') ? '/home/x\n' : cmd.includes('orch-probe') ? 'A\n' : ''));
  const user = HOSTILE.replace(/\//g, '');
  const res = await fetch.run(r.ctx, { src: `~${user}/f`, dest: '/tmp/orch-unit-fetch', fail_on_missing: false });
  assert.equal(res.msg, 'the remote file does not exist, not transferring, ignored');
  const getent = r.ran.find(({ cmd }) => cmd.startsWith('getent'));
  assert.equal(getent?.cmd, `getent passwd ${quote(user)} | cut -d: -f6`);
  assert.ok(
    r.ran
      .filter(({ cmd }) => cmd.includes('pwned'))
      .every(({ cmd }) => cmd.includes(quote(user)) || cmd.includes('pack("H*"')),
    'quoted or hex-encoded',
  );
});
