import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunEvent } from '../../src/core/events.js';
import { failures, HOSTS, INVENTORY, onHost, orch, orchBackground, writePlaybook } from '../helpers/lab.js';

// Each host records, on itself, which run touched it and when: checked over plain ssh, not from orch's report.
const pb = writePlaybook(`- hosts: all
  gather_facts: no
  tasks:
    - shell: echo "{{ tag }} $(date +%s%N)" >> /tmp/orch-shard-seen; sleep 1
`);

function finished(child: ReturnType<typeof orchBackground>): Promise<{ code: number | null; events: RunEvent[] }> {
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) =>
      resolve({
        code,
        events: out
          .split('\n')
          .filter((l) => l.trim().startsWith('{'))
          .map((l) => JSON.parse(l) as RunEvent),
      }),
    ),
  );
}

const recapHosts = (events: RunEvent[]) => {
  const r = events.find((e) => e.type === 'recap');
  return r?.type === 'recap' ? Object.keys(r.stats).sort() : [];
};

test('shard: two shards run side by side on the lab; `history --merge` shows one run with exactly the hosts of a single run', async () => {
  for (const h of HOSTS) onHost(h, 'rm -f /tmp/orch-shard-seen');
  const single = orch(['run', INVENTORY, pb, '-e', 'tag=single']);
  assert.equal(single.code, 0, failures(single));
  const everyHost = recapHosts(single.events);
  assert.deepEqual(everyHost, [...HOSTS].sort());

  const cwd = mkdtempSync(join(tmpdir(), 'orch-shards-'));
  const shards = ['1/2', '2/2'].map((s) =>
    finished(orchBackground(['run', INVENTORY, pb, '-e', `tag=shard${s[0]}`, '--shard', s, '--run-id', 'ci-42'], cwd)),
  );
  const [one, two] = await Promise.all(shards);
  assert.equal(one?.code, 0);
  assert.equal(two?.code, 0, "the second shard was not refused by the first one's lock");
  const a = recapHosts(one?.events ?? []);
  const b = recapHosts(two?.events ?? []);
  assert.ok(a.length > 0 && b.length > 0, `both shards have hosts: ${a} | ${b}`);
  assert.deepEqual([...a, ...b].sort(), everyHost, 'together every host, none twice');

  // on the hosts themselves: each was touched by exactly one shard, and the shards overlapped in time
  const seen = HOSTS.map((h) => onHost(h, 'grep shard /tmp/orch-shard-seen').stdout.trim().split('\n'));
  assert.ok(
    seen.every((lines) => lines.length === 1),
    JSON.stringify(seen),
  );
  const times = (tag: string) =>
    seen
      .flat()
      .filter((l) => l.startsWith(tag))
      .map((l) => Number(l.split(' ')[1]) / 1e6);
  const [t1, t2] = [times('shard1'), times('shard2')];
  assert.ok(
    Math.abs(Math.min(...t1) - Math.min(...t2)) < 1000,
    'the shards ran at the same time (each task takes 1 s)',
  );

  const merged = orch(['history', '--merge', join(cwd, '.orch', 'runs')], { json: false });
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stdout, /2\/2 shards, run ci-42/);
  const hostsShown = [...merged.stdout.matchAll(/^ {4}(\S+): changed \(shard (\d)\/2\)$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(hostsShown, everyHost, merged.stdout);
});

test('shard: a run of the whole inventory is refused while a shard of it runs', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'orch-shards-'));
  const slow = writePlaybook('- hosts: all\n  gather_facts: no\n  tasks:\n    - pause: seconds=3\n');
  const shard = finished(orchBackground(['run', INVENTORY, slow, '--shard', '1/2'], cwd));
  await new Promise((r) => setTimeout(r, 1500));
  const whole = orch(['run', INVENTORY, slow], { cwd });
  assert.equal(whole.code, 6, `exit 6 (locked): ${whole.stderr}`);
  assert.match(whole.stderr, /\(shard 1\/2\) is locked by another run/);
  assert.equal((await shard).code, 0);
});
