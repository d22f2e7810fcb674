import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fault } from '../helpers/faults.js';
import { HOSTS, INVENTORY, ORCH, onHost, orch, orchBackground, writePlaybook } from '../helpers/lab.js';

// Runs and locks (issue 16, case 9). Each test runs orch in its own working directory: its own .orch/.
const host = HOSTS[0] as string;
const freshDir = () => mkdtempSync(join(tmpdir(), 'orch-cwd-'));

/** Start a run in the background and wait until its first task started; returns it and its output so far. */
async function startSlowRun(cwd: string, playbook: string) {
  const bg = orchBackground(['run', INVENTORY, playbook], cwd);
  const seen = { out: '' };
  bg.stdout.on('data', (d: Buffer) => (seen.out += d.toString()));
  const exited = new Promise<number>((res) => bg.on('exit', (c, sig) => res(c ?? (sig ? -1 : -2))));
  const deadline = Date.now() + 20_000;
  while (!seen.out.includes('"task_start"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(seen.out.includes('"task_start"'), 'the background run started a task');
  return { bg, seen, exited };
}

fault(
  'orch lock release refuses the lock of a run that is still running (also with --force); status says it runs',
  'release exit 6 naming user@host, pid and since, "still running"; --force too; a third run refused; the first run finishes',
  async () => {
    const cwd = freshDir();
    const slow = writePlaybook(`- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - command: sleep 4\n`);
    const { bg, exited } = await startSlowRun(cwd, slow);
    const status = orch(['lock', 'status', INVENTORY, '--local'], { cwd, json: false });
    assert.match(status.stdout, new RegExp(`locked here by .*@.* pid ${bg.pid} since .*\\(still running\\)`));
    const release = orch(['lock', 'release', INVENTORY, '--local'], { cwd, json: false });
    assert.equal(release.code, 6, release.stdout + release.stderr);
    assert.match(release.stderr, new RegExp(`still running: .*@.* pid ${bg.pid} since \\d{4}-`));
    const forced = orch(['lock', 'release', INVENTORY, '--local', '--force'], { cwd, json: false });
    assert.equal(forced.code, 6, 'refused with --force too');
    const third = orch(['run', INVENTORY, slow], { cwd, json: false });
    assert.equal(third.code, 6, 'a third run is refused: the lock is still held');
    assert.equal(await exited, 0);
    assert.match(orch(['lock', 'status', INVENTORY, '--local'], { cwd, json: false }).stdout, /not locked/);
    return `status: still running; release exit ${release.code}: ${release.stderr.split('\n')[0]?.slice(0, 120)}; --force exit ${forced.code}; third run exit ${third.code}`;
  },
);

fault(
  "a deploy lock on a host held by a live run here is not released; a dead holder's is",
  'lock file kept for the live pid (exit 6, NOT released); removed for a dead pid',
  () => {
    const cwd = freshDir();
    const holder = (pid: number) =>
      JSON.stringify({
        user: 'someone',
        host: hostname(),
        pid,
        since: new Date().toISOString(),
        command: 'deploy lab',
        message: '',
        token: 'tok-1',
      });
    onHost(host, `mkdir -p /var/lib/orch && printf '%s\\n' '${holder(process.pid)}' > /var/lib/orch/deploy.lock`);
    const live = orch(['lock', 'release', INVENTORY, '--hosts', host], { cwd, json: false });
    assert.equal(live.code, 6, live.stdout + live.stderr);
    assert.match(
      live.stdout,
      new RegExp(`${host}: NOT released: held by someone@.* pid ${process.pid}, still running`),
    );
    assert.equal(onHost(host, 'test -e /var/lib/orch/deploy.lock && echo kept').stdout.trim(), 'kept');
    onHost(host, `printf '%s\\n' '${holder(999_999)}' > /var/lib/orch/deploy.lock`);
    const dead = orch(['lock', 'release', INVENTORY, '--hosts', host], { cwd, json: false });
    assert.equal(dead.code, 0, dead.stdout + dead.stderr);
    assert.equal(onHost(host, 'test -e /var/lib/orch/deploy.lock && echo kept || echo gone').stdout.trim(), 'gone');
    return 'live holder: NOT released, exit 6; dead holder: released';
  },
);

fault(
  'a YAML alias bomb in group_vars is refused at once, naming the file',
  'exit 4 in seconds, "aliases expand" with group_vars/all.yml:line; no host touched',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-inv-'));
    writeFileSync(join(dir, 'hosts'), readFileSync(INVENTORY, 'utf8'));
    mkdirSync(join(dir, 'group_vars'));
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++)
      lines.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    writeFileSync(join(dir, 'group_vars', 'all.yml'), `${lines.join('\n')}\n`);
    const pb = writePlaybook(`- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - debug: msg=hi\n`);
    const started = Date.now();
    // SIGKILL: before the fix, the loading process did not even end on SIGTERM (and grew past 3 GB)
    const r = spawnSync(ORCH, ['run', join(dir, 'hosts'), pb], {
      cwd: freshDir(),
      encoding: 'utf8',
      timeout: 15_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, CI: '1' },
    });
    const took = Date.now() - started;
    assert.equal(r.status, 4, `exit ${r.status} signal ${r.signal} after ${took} ms`);
    assert.match(r.stderr, /group_vars\/all\.yml:\d+: YAML aliases expand to over \d+ values/);
    assert.ok(took < 10_000, `took ${took} ms`);
    return `exit 4 after ${(took / 1000).toFixed(1)} s: ${r.stderr.split('\n')[0]?.replace(/.*group_vars/, 'group_vars')}`;
  },
);

fault(
  '`orch run … | head -1`: a closed stdout does not stop the run',
  'no EPIPE trace; exit 0; the last task ran on the host; the run log ends with run_end',
  () => {
    const cwd = freshDir();
    onHost(host, 'rm -f /tmp/orch-epipe-done');
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - command: "true"\n      loop: [1, 2, 3, 4, 5, 6, 7, 8]\n    - command: sleep 1\n    - copy: dest=/tmp/orch-epipe-done content="done\\n"\n`,
    );
    for (const output of ['lines', 'json']) {
      onHost(host, 'rm -f /tmp/orch-epipe-done');
      const r = spawnSync(
        'bash',
        [
          '-c',
          `"$0" run "$1" "$2" --output ${output} | head -1 >/dev/null; echo "rc=\${PIPESTATUS[0]}" >&2`,
          ORCH,
          INVENTORY,
          pb,
        ],
        { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: '1' } },
      );
      assert.doesNotMatch(r.stderr, /EPIPE|at .*\.js:\d+/, r.stderr);
      assert.match(r.stderr, /rc=0$/m, r.stderr);
      assert.equal(onHost(host, 'cat /tmp/orch-epipe-done').stdout, 'done\n', `${output}: the last task ran`);
    }
    const logs = readdirSync(join(cwd, '.orch', 'runs'));
    const last =
      readFileSync(join(cwd, '.orch', 'runs', logs.sort().at(-1) as string), 'utf8')
        .trim()
        .split('\n')
        .at(-1) ?? '';
    assert.match(last, /"type":"run_end","exitCode":0/);
    return 'lines and json: exit 0, no trace, last task done, run log complete';
  },
);

fault(
  'copy content "{{ v }}\\n" keeps the trailing newline (as ansible-playbook does)',
  'file bytes "hello\\n", "hello\\n\\n"; second run ok',
  () => {
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  vars:\n    v: hello\n  tasks:\n    - copy:\n        dest: /tmp/orch-nl-1\n        content: "{{ v }}\\n"\n    - copy:\n        dest: /tmp/orch-nl-2\n        content: "{{ v }}\\n\\n"\n    - copy: dest=/tmp/orch-nl-3 content="{{ v }}\\n"\n`,
    );
    onHost(host, 'rm -f /tmp/orch-nl-*');
    assert.equal(orch(['run', INVENTORY, pb]).code, 0);
    assert.equal(
      onHost(host, 'cat /tmp/orch-nl-1; echo "|"; cat /tmp/orch-nl-2; echo "|"; cat /tmp/orch-nl-3').stdout,
      'hello\n|\nhello\n\n|\nhello\n',
    );
    const again = orch(['run', INVENTORY, pb]);
    assert.equal(again.events.filter((e) => e.type === 'host_result' && e.status === 'changed').length, 0);
    return 'hello\\n, hello\\n\\n, hello\\n (k=v form); second run ok';
  },
);

fault(
  'SIGHUP ends a run like SIGTERM: a message, the task in flight finishes, no new task, lock released, exit 129',
  'exit 129; interrupt event for SIGHUP; second task not run; lock free',
  async () => {
    const cwd = freshDir();
    onHost(host, 'rm -f /tmp/orch-hup-after');
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - command: sleep 2\n    - copy: dest=/tmp/orch-hup-after content=x\n`,
    );
    const { bg, seen, exited } = await startSlowRun(cwd, pb);
    bg.kill('SIGHUP');
    const code = await exited;
    assert.equal(code, 129, seen.out);
    assert.match(seen.out, /"type":"interrupt","signal":"SIGHUP","msg":"hangup/);
    assert.match(seen.out, /"type":"recap"/);
    assert.equal(onHost(host, 'test -e /tmp/orch-hup-after && echo ran || echo not').stdout.trim(), 'not');
    assert.match(orch(['lock', 'status', INVENTORY, '--local'], { cwd, json: false }).stdout, /not locked/);
    return 'exit 129 with a hangup message; recap; the next task did not start; lock released';
  },
);

fault(
  'SIGTERM while a large vars file is still loading ends orch at once',
  'the process ends within 3 s of SIGTERM (it used to finish loading first)',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-inv-'));
    writeFileSync(join(dir, 'hosts'), readFileSync(INVENTORY, 'utf8'));
    mkdirSync(join(dir, 'group_vars'));
    // ~1 MB, 20 000 variables: several seconds to load on the lab machine
    writeFileSync(
      join(dir, 'group_vars', 'all.yml'),
      Array.from({ length: 20_000 }, (_, i) => `var_${i}: {a: ${i}, b: [x, y, z], c: "text ${i}"}\n`).join(''),
    );
    const pb = writePlaybook(`- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - debug: msg=hi\n`);
    const child = spawn(ORCH, ['run', join(dir, 'hosts'), pb, '--output', 'json'], {
      cwd: freshDir(),
      env: { ...process.env, CI: '1' },
      stdio: 'ignore',
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
      child.on('exit', (code, signal) => res({ code, signal })),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const sent = Date.now();
    child.kill('SIGTERM');
    const end = await exited;
    const took = Date.now() - sent;
    if (took >= 3000) child.kill('SIGKILL');
    assert.ok(took < 3000, `ended ${took} ms after SIGTERM (${JSON.stringify(end)})`);
    assert.ok(end.signal === 'SIGTERM' || end.code === 143 || end.code === 0, JSON.stringify(end));
    return `ended ${took} ms after SIGTERM (${end.signal ?? `exit ${end.code}`})`;
  },
);

fault(
  '--log: a path that cannot be written is refused before anything runs; a log pipe closed mid-run does not stop the run',
  'exit 5 naming the path; with a closed pipe: a warning, exit 0, the last task ran',
  () => {
    const cwd = freshDir();
    const pb = writePlaybook(
      `- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - command: "true"\n      loop: [1, 2, 3, 4, 5, 6]\n    - copy: dest=/tmp/orch-logpipe-done content="done\\n"\n`,
    );
    const bad = orch(['run', INVENTORY, pb, '--log', '/nonexistent-dir/run.log'], { cwd, json: false });
    assert.equal(bad.code, 5, bad.stderr);
    assert.match(bad.stderr, /--log \/nonexistent-dir\/run\.log: cannot write there \(ENOENT\)/);
    onHost(host, 'rm -f /tmp/orch-logpipe-done');
    const fifo = join(cwd, 'log.fifo');
    const r = spawnSync(
      'bash',
      [
        '-c',
        `mkfifo "$3"; head -c 10 "$3" >/dev/null & "$0" run "$1" "$2" --output json --log "$3" >/dev/null; echo "rc=$?" >&2`,
        ORCH,
        INVENTORY,
        pb,
        fifo,
      ],
      { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: '1' } },
    );
    assert.match(r.stderr, /rc=0$/m, r.stderr);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    assert.equal(onHost(host, 'cat /tmp/orch-logpipe-done').stdout, 'done\n');
    return `bad path: exit 5 (${errorLine(bad.stderr)}); closed log pipe: ${r.stderr.trim().split('\n')[0]}; exit 0, last task ran`;
  },
);

const errorLine = (s: string) => s.split('\n').find((l) => l.startsWith('ERROR')) ?? '';
