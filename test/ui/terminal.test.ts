import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOSTS, INVENTORY, ORCH, orch, ROOT, writePlaybook } from '../helpers/lab.js';

const SECRET = 'hunter2-very-secret';

const pb = writePlaybook(`
- hosts: all
  gather_facts: no
  vars:
    db_password: ${SECRET}
  tasks:
    - name: configure
      copy: dest=/tmp/orch-ui-test content="ok"
    - name: uses a secret
      command: echo {{ db_password }}
      no_log: true
      changed_when: false
    - name: fails on purpose with the secret
      shell: echo {{ db_password }} >&2; exit 1
      no_log: true
      when: inventory_hostname == '${HOSTS[0]}'
      ignore_errors: yes
`);

function tmux(...args: string[]): string {
  return spawnSync('tmux', args, { encoding: 'utf8' }).stdout;
}

test('a real terminal: the TUI under tmux shows progress, then the recap', async () => {
  const session = `orch-ui-${process.pid}`;
  tmux('kill-session', '-t', session);
  spawnSync('tmux', [
    'new-session',
    '-d',
    '-s',
    session,
    '-x',
    '120',
    '-y',
    '40',
    `cd ${ROOT} && env -u CI ${ORCH} run ${INVENTORY} ${pb}; echo EXIT=$?; sleep 30`,
  ]);
  let screen = '';
  const deadline = Date.now() + 60_000;
  while (!/EXIT=\d+/.test(screen) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    screen = tmux('capture-pane', '-p', '-t', session);
  }
  tmux('kill-session', '-t', session);
  assert.match(screen, /EXIT=0/);
  assert.match(screen, /PLAY RECAP/);
  for (const h of HOSTS) assert.match(screen, new RegExp(`${h}\\s+: ok=\\d+ {2}changed=\\d+`));
  assert.match(screen, new RegExp(`failed \\(ignored\\): \\[${HOSTS[0]}\\] fails on purpose`));
  assert.doesNotMatch(screen, new RegExp(SECRET));
});

test('NDJSON: one parseable event per line, stable fields, no_log values redacted everywhere', () => {
  const r = orch(['run', INVENTORY, pb, '--log', '/tmp/orch-ui-test.ndjson']);
  assert.equal(r.code, 0);
  const lines = r.stdout.trim().split('\n');
  const events = lines.map((l) => JSON.parse(l) as { type: string; ts: string });
  assert.deepEqual(
    [...new Set(events.map((e) => e.type))].sort(),
    ['host_result', 'play_start', 'recap', 'run_end', 'run_start', 'task_start'].sort(),
  );
  assert.ok(events.every((e) => typeof e.ts === 'string'));
  const failed = events.find(
    (e) => e.type === 'host_result' && (e as unknown as { status: string }).status === 'failed',
  ) as unknown as { msg: string; stderr?: string };
  assert.match(failed.msg, /hidden due to the fact that 'no_log: true'/);
  assert.equal(failed.stderr, undefined);
  for (const out of [
    r.stdout,
    r.stderr,
    readFileSync('/tmp/orch-ui-test.ndjson', 'utf8'),
    orch(['run', INVENTORY, pb], { json: false }).stdout,
  ])
    assert.doesNotMatch(out, new RegExp(SECRET));
  const runs = join(ROOT, '.orch', 'runs');
  for (const f of readdirSync(runs)) assert.doesNotMatch(readFileSync(join(runs, f), 'utf8'), new RegExp(SECRET), f);
});

test('orch history lists past runs with who, what and the result', () => {
  const r = orch(['history'], { json: false });
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ {2}root\\s+run \\S*inventory\\s+ok \\(${HOSTS.length} hosts\\)$`, 'm'),
  );
  // a run refused before it started (the lock) is listed by its file name, with the reason
  assert.doesNotMatch(r.stdout, /\.ndjson/);
});
