/** @jsxRuntime automatic */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import type { RunEvent } from '../../src/core/events.js';
import { App, createStore, diffLineColour, visibleHosts } from '../../src/ui/tui.js';
import { initialState, reduce } from '../../src/ui/tui-state.js';

const ESC = /\x1b\[[0-9;]*m/g;
const plain = (s: string | undefined) => (s ?? '').replace(ESC, '');
const tick = () => new Promise((r) => setTimeout(r, 30));

function start(hosts: string[]): RunEvent[] {
  return [
    {
      type: 'run_start',
      time: '',
      command: 'apply production',
      inventory: 'inventory/production',
      playbook: '/p/playbooks/site.yml',
      hosts,
      check: false,
      user: 'ops',
    },
    { type: 'play_start', name: 'Host tuning', hosts },
    {
      type: 'task_start',
      taskId: 1,
      name: 'Write the sysctl settings',
      role: 'kernel-tuning',
      hosts,
      handler: false,
      module: 'template',
    },
  ];
}

test('running play: header, task, progress and a row per running host', async () => {
  const store = createStore('apply production');
  const ui = render(<App store={store} rows={30} />);
  for (const e of start(['web1', 'web2', 'db1'])) store.dispatch(e);
  store.dispatch({
    type: 'host_result',
    host: 'web1',
    taskId: 1,
    task: 'Write the sysctl settings',
    module: 'template',
    status: 'changed',
    durationMs: 5,
  });
  await tick();
  const f = plain(ui.lastFrame());
  assert.match(f, /orch apply production/);
  assert.match(f, /kernel-tuning : Write the sysctl settings/);
  assert.match(f, /1\/3/);
  assert.match(f, /web2 .*ok=0/);
  assert.match(f, /web1 .*changed=1/);
  ui.unmount();
});

test('failure shown at once with host, task, message, hint and stderr tail', async () => {
  const store = createStore('apply production');
  const ui = render(<App store={store} rows={30} />);
  for (const e of start(['web1'])) store.dispatch(e);
  store.dispatch({
    type: 'host_result',
    host: 'web1',
    taskId: 1,
    task: 'Write the sysctl settings',
    module: 'template',
    status: 'failed',
    msg: 'writing /etc/x failed (rc=1)',
    hint: 'check the disk',
    stderr: 'No space left on device',
    durationMs: 5,
    at: 'roles/k/tasks/main.yml:12',
  });
  await tick();
  // Finished items go to <Static>: written once above the live area, so look at every frame written.
  const f = plain(ui.frames.join('\n'));
  assert.match(f, /failed: \[web1\] Write the sysctl settings: writing \/etc\/x failed/);
  assert.match(f, /hint: check the disk/);
  assert.match(f, /No space left on device/);
  ui.unmount();
});

test('diffs are coloured: additions green, removals red', async () => {
  const store = createStore('apply production');
  const ui = render(<App store={store} rows={30} />);
  for (const e of start(['web1'])) store.dispatch(e);
  store.dispatch({
    type: 'host_result',
    host: 'web1',
    taskId: 1,
    task: 't',
    module: 'copy',
    status: 'changed',
    diff: [{ path: '/etc/a', before: 'old\n', after: 'new\n' }],
    durationMs: 1,
  });
  await tick();
  const f = plain(ui.frames.join('\n'));
  assert.match(f, /^web1: t$/m);
  assert.match(f, /^-old$/m);
  assert.match(f, /^\+new$/m);
  assert.equal(diffLineColour('+new'), 'green');
  assert.equal(diffLineColour('-old'), 'red');
  assert.equal(diffLineColour('+++ /etc/a'), undefined);
  ui.unmount();
});

test('recap table at the end', async () => {
  const store = createStore('apply production');
  const ui = render(<App store={store} rows={30} />);
  for (const e of start(['web1'])) store.dispatch(e);
  store.dispatch({
    type: 'recap',
    stats: { web1: { ok: 5, changed: 2, failed: 0, skipped: 1, unreachable: 0, rescued: 0, ignored: 0 } },
    durationMs: 1234,
    roundTrips: {},
  });
  store.dispatch({ type: 'run_end', exitCode: 0, durationMs: 1234 });
  await tick();
  const f = plain(ui.lastFrame());
  assert.match(f, /PLAY RECAP \(1\.2s\)/);
  assert.match(f, /web1\s+: ok=5 {2}changed=2 {2}unreachable=0 {2}failed=0/);
  ui.unmount();
});

test('deploy: batches and the release each host runs at the end', async () => {
  const store = createStore('deploy production');
  const ui = render(<App store={store} rows={30} />);
  for (const e of start(['web1', 'web2'])) store.dispatch(e);
  store.dispatch({ type: 'batch_start', index: 2, total: 2, hosts: ['web2'] });
  store.dispatch({ type: 'releases', releases: { web1: '20261122-abc1234', web2: 'initial' } });
  await tick();
  const f = plain(ui.frames.join('\n'));
  assert.match(f, /batch 2\/2: web2/);
  assert.match(f, /web1\s+: 20261122-abc1234\n\s*web2\s+: initial/);
  ui.unmount();
});

test('500 hosts: the live part stays within the terminal height', async () => {
  const hosts = Array.from({ length: 500 }, (_, i) => `web${i + 1}`);
  const store = createStore('apply production');
  const ui = render(<App store={store} rows={24} />);
  for (const e of start(hosts)) store.dispatch(e);
  for (const h of hosts.slice(0, 200))
    store.dispatch({ type: 'host_result', host: h, taskId: 1, task: 't', module: 'copy', status: 'ok', durationMs: 1 });
  await tick();
  const lines = plain(ui.lastFrame()).split('\n');
  const liveStart = lines.findIndex((l) => l.includes('orch apply production'));
  assert.ok(liveStart >= 0);
  assert.ok(lines.length - liveStart + 1 <= 24, `live area is ${lines.length - liveStart + 1} lines`);
  assert.match(lines.join('\n'), /… \d+ more running, \d+ done, 0 failed/);
  assert.match(lines.join('\n'), /200\/500/);
  ui.unmount();
});

test('failed hosts are listed first when hosts are folded', async () => {
  const s = initialState('x');
  for (const e of start(['a', 'b', 'c', 'd'])) reduce(s, e, 0);
  reduce(
    s,
    { type: 'host_result', host: 'd', taskId: 1, task: 't', module: 'copy', status: 'failed', durationMs: 1 },
    0,
  );
  const { shown, folded } = visibleHosts([...s.hosts.values()], 2);
  assert.equal(shown[0]?.name, 'd');
  assert.equal(folded?.running, 3);
});

test('plan: an unknown result is shown with why; diffs wait for the plan printed at the end', async () => {
  const store = createStore('plan production');
  const ui = render(<App store={store} rows={30} />);
  for (const e of start(['web1'])) store.dispatch(e);
  store.dispatch({
    type: 'host_result',
    host: 'web1',
    taskId: 1,
    task: 'Write the sysctl settings',
    module: 'template',
    status: 'skipped',
    durationMs: 5,
    plan: { status: 'unknown', reason: "depends on 'token' (site.yml:4)" },
  });
  store.dispatch({
    type: 'host_result',
    host: 'web1',
    taskId: 1,
    task: 'motd',
    module: 'copy',
    status: 'changed',
    durationMs: 5,
    diff: [{ path: '/etc/motd', before: '', after: 'hi\n' }],
  });
  await tick();
  const f = plain(ui.lastFrame());
  assert.match(f, /skipped: \[web1\] Write the sysctl settings: unknown: depends on 'token' \(site\.yml:4\)/);
  assert.doesNotMatch(f, /\+hi/);
  ui.unmount();
});
