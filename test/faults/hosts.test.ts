import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { errorLines, fault } from '../helpers/faults.js';
import {
  HOSTS,
  INVENTORY,
  ORCH,
  onHost,
  orch,
  orchBackground,
  resetHost,
  results,
  ROOT,
  writePlaybook,
} from '../helpers/lab.js';

// Faults on and around the targets: what the user reads, the exit code, and the state left on the host,
// checked over the system's ssh (not orch's report).
const host = HOSTS[3] as string;
const LAB_DIR = process.env.ORCH_LAB_DIR ?? '/var/lib/orch-test-lab';

const pb = (tasks: string, extra = '') =>
  writePlaybook(`- hosts: ${host}\n  gather_facts: no\n${extra}  tasks:\n${tasks}`);
const failed = (r: ReturnType<typeof orch>) =>
  results(r).find((x) => x.status === 'failed' || x.status === 'unreachable');
const summary = (r: ReturnType<typeof orch>) => {
  const f = failed(r);
  return `exit ${r.code}; ${f ? `${f.status}: ${f.msg ?? ''}${f.at ? ` (at ${f.at.replace(/.*\//, '')})` : ''}${f.hint ? `; hint: ${f.hint}` : ''}` : 'no failure'}`;
};
const noTempLeft = (dir: string) => onHost(host, `ls -A ${dir} | grep -c '^\\.orch-tmp' || true`).stdout.trim();

/** The lab inventory plus host lines (host vars for one case). */
function inventoryWith(lines: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'orch-inv-'));
  const text = readFileSync(INVENTORY, 'utf8').replace(new RegExp(`^${host} .*$`, 'm'), (l) => `${l} ${lines}`);
  writeFileSync(join(dir, 'hosts'), text);
  return join(dir, 'hosts');
}

test('fault host: fresh', () => resetHost(host));

fault('missing template file (runtime)', 'exit 2, names the template and where it looked, task file:line', () => {
  const r = orch(['run', INVENTORY, pb('    - name: render\n      template: src=nothere.j2 dest=/tmp/x\n')]);
  assert.equal(r.code, 2);
  assert.match(failed(r)?.msg ?? '', /nothere\.j2/);
  assert.match(failed(r)?.at ?? '', /playbook\.yml:4$/);
  return summary(r);
});

fault('template syntax error in a task argument', 'exit 2, the template error, task file:line', () => {
  const r = orch(['run', INVENTORY, pb('    - debug:\n        msg: "{{ foo "\n')]);
  assert.equal(r.code, 2);
  assert.match(failed(r)?.msg ?? '', /template|expected|unexpected/i);
  assert.match(failed(r)?.at ?? '', /playbook\.yml:4$/);
  return summary(r);
});

fault(
  'command timeout (--timeout)',
  'task failed with rc 124 and "timed out"; nothing left running on the host',
  () => {
    const r = orch(['run', INVENTORY, pb('    - shell: sleep 41\n'), '--timeout', '2']);
    assert.equal(r.code, 2);
    const f = failed(r);
    assert.equal(f?.rc, 124);
    assert.match(f?.msg ?? '', /timed out after 2 ?s/i);
    assert.equal(onHost(host, "pgrep -f '[s]leep 41' || true").stdout.trim(), '', 'the command was killed');
    return `${summary(r)}; rc ${f?.rc}; no process left`;
  },
);

fault(
  'remote process that hangs and ignores SIGTERM (task timeout)',
  "killed after the grace period (SIGKILL); task failed rc 124 with Ansible's message; no process left",
  () => {
    const started = Date.now();
    const r = orch(['run', INVENTORY, pb("    - shell: trap '' TERM; sleep 42\n      timeout: 1\n")]);
    assert.equal(r.code, 2);
    assert.ok([124, 137].includes(failed(r)?.rc ?? 0), `rc ${failed(r)?.rc}`);
    assert.equal(
      failed(r)?.msg,
      'The shell action failed to execute in the expected time frame (1) and was terminated',
    );
    assert.ok(Date.now() - started < 20_000, 'did not wait for the sleep');
    assert.equal(onHost(host, "pgrep -f '[s]leep 42' || true").stdout.trim(), '', 'the hung process was killed');
    return `${summary(r)}; took ${Math.round((Date.now() - started) / 1000)} s; no process left`;
  },
);

fault(
  'target disk full while writing a file',
  'task failed naming the file and "No space left"; the original intact; no temp file left',
  () => {
    onHost(
      host,
      'mkdir -p /srv/full && (mountpoint -q /srv/full || mount -t tmpfs -o size=64k tmpfs /srv/full) && echo original > /srv/full/app.conf && (dd if=/dev/zero of=/srv/full/filler bs=1k count=100 2>/dev/null; true)',
    );
    const big = 'x'.repeat(200_000);
    const r = orch([
      'run',
      INVENTORY,
      pb(`    - copy:\n        dest: /srv/full/app.conf\n        content: "${big}"\n`),
    ]);
    assert.equal(r.code, 2);
    assert.match(failed(r)?.msg ?? '', /\/srv\/full\/app\.conf/);
    assert.match(`${failed(r)?.msg} ${failed(r)?.stderr}`, /No space left on device/);
    assert.equal(onHost(host, 'cat /srv/full/app.conf').stdout, 'original\n');
    assert.equal(noTempLeft('/srv/full'), '0');
    return `${summary(r).slice(0, 160)}; original intact; 0 temp files`;
  },
);

fault('read-only target file system', 'task failed with "Read-only file system"; the file intact', () => {
  onHost(
    host,
    'mkdir -p /srv/ro && (mountpoint -q /srv/ro || mount -t tmpfs -o size=1m tmpfs /srv/ro) && echo original > /srv/ro/app.conf && mount -o remount,ro /srv/ro',
  );
  const r = orch(['run', INVENTORY, pb('    - copy: dest=/srv/ro/app.conf content=new\n')]);
  assert.equal(r.code, 2);
  assert.match(`${failed(r)?.msg} ${failed(r)?.stderr}`, /Read-only file system/);
  assert.equal(onHost(host, 'cat /srv/ro/app.conf').stdout, 'original\n');
  return `${summary(r).slice(0, 160)}; original intact`;
});

fault('connection reset mid-task', 'host reported unreachable ("connection lost"), exit 3, lock released', async () => {
  const bg = orchBackground([
    'run',
    INVENTORY,
    pb('    - shell: sleep 4\n    - file: path=/tmp/orch-after-reset state=touch\n'),
  ]);
  let out = '';
  bg.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!out.includes('"task_start"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 700));
  // Kill the sshd session that carries orch's command runner (walk up from the runner's perl process).
  onHost(
    host,
    `for p in $(pgrep -x perl); do s=$p; while [ "$s" -gt 1 ]; do case "$(tr '\\0' ' ' < /proc/$s/cmdline)" in "sshd: deploy"*) kill -9 $s; break;; esac; s=$(awk '{print $4}' /proc/$s/stat); done; done`,
  );
  const code = await new Promise<number>((res) => bg.on('exit', (c) => res(c ?? -1)));
  const events = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; status?: string; msg?: string });
  const lost = events.find((e) => e.type === 'host_result' && e.status === 'unreachable');
  assert.equal(code, 3);
  assert.match(lost?.msg ?? '', /connection (lost|closed)/);
  assert.equal(
    onHost(host, 'test -e /tmp/orch-after-reset && echo ran || echo not-run').stdout.trim(),
    'not-run',
    'no task after the loss',
  );
  assert.equal(
    orch(['lock', 'status', 'inventory', '--local'], { json: false }).stdout.trim(),
    'inventory: not locked',
  );
  return `exit ${code}; unreachable: ${lost?.msg}; next task not run; lock released`;
});

/** A user whose sudo needs a password (the lab's deploy user has NOPASSWD). */
function addPasswordSudoUser(extraSudoers = ''): void {
  onHost(
    host,
    `id ops >/dev/null 2>&1 || useradd -m -s /bin/sh ops; echo 'ops:ops-pass-1' | chpasswd; mkdir -p ~ops/.ssh; cp ~deploy/.ssh/authorized_keys ~ops/.ssh/; chown -R ops ~ops/.ssh; printf 'ops ALL=(ALL) ALL\\n${extraSudoers}' > /etc/sudoers.d/ops; chmod 440 /etc/sudoers.d/ops`,
  );
}

fault(
  'wrong sudo password',
  'task failed (BecomeError): "sudo to root failed: sudo refused the password (incorrect password)", exit 2; the right one works',
  () => {
    addPasswordSudoUser();
    const task = '    - command: id -u\n      register: who\n      become: yes\n';
    const bad = orch(['run', inventoryWith('ansible_user=ops ansible_become_password=wrong-one'), pb(task)]);
    assert.equal(bad.code, 2);
    assert.equal(failed(bad)?.status, 'failed');
    assert.match(
      `${failed(bad)?.msg} ${failed(bad)?.hint}`,
      /sudo to root failed: sudo refused the password \(incorrect password\).*ansible_become_password/,
    );
    assert.doesNotMatch(JSON.stringify(bad.events), /wrong-one/, 'the password never printed');
    const good = orch([
      'run',
      inventoryWith('ansible_user=ops ansible_become_password=ops-pass-1'),
      pb(`${task}    - assert: { that: "who.stdout == '0'" }\n`),
    ]);
    assert.equal(good.code, 0, summary(good));
    return `${summary(bad)}; password not in output; right password: exit 0, uid 0`;
  },
);

fault('sudo requires a TTY (Defaults requiretty)', 'task failed with advice to remove requiretty, exit 2', () => {
  addPasswordSudoUser('Defaults:ops requiretty\\n');
  const r = orch([
    'run',
    inventoryWith('ansible_user=ops ansible_become_password=ops-pass-1'),
    pb('    - command: id -u\n      become: yes\n'),
  ]);
  onHost(host, 'rm -f /etc/sudoers.d/ops');
  assert.equal(r.code, 2);
  assert.match(`${failed(r)?.msg} ${failed(r)?.hint}`, /requires a TTY .*requiretty/);
  return summary(r);
});

fault(
  'huge command output (100 MB)',
  'task ok, output truncated in the middle, controller peak RSS bounded (< 300 MB)',
  () => {
    const p = pb(
      "    - shell: head -c 100000000 /dev/zero | tr '\\\\0' x; echo; echo THE-END\n      register: big\n    - assert: { that: \"big.stdout.endswith('THE-END')\" }\n",
    );
    const r = spawnSync('/usr/bin/time', ['-f', 'RSS_KB=%M', ORCH, 'run', INVENTORY, p, '--output', 'json'], {
      encoding: 'utf8',
      cwd: ROOT,
      env: { ...process.env, CI: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(r.status, 0, r.stderr.slice(-500));
    const rssMb = Number(/RSS_KB=(\d+)/.exec(r.stderr)?.[1]) / 1024;
    assert.ok(rssMb < 300, `peak RSS ${rssMb} MB`);
    return `exit 0; tail kept (assert on THE-END passed); peak RSS ${Math.round(rssMb)} MB`;
  },
);

fault(
  'temp files on the target are private and removed; modes as asked',
  'temp file 0600 while written (seen on the host as orch creates it), none left; file 0640 www-data',
  () => {
    onHost(host, 'rm -f /tmp/orch-tmpmode; mkdir -p /srv/modes');
    const r = orch([
      'run',
      INVENTORY,
      pb(
        '    - copy:\n        dest: /srv/modes/app.conf\n        content: "secret-ish\\n"\n        mode: \'0640\'\n        owner: www-data\n        validate: sh -c \'stat -c %%a "$1" > /tmp/orch-tmpmode\' _ %s\n',
        '  become: yes\n',
      ),
    ]);
    assert.equal(r.code, 0, summary(r));
    assert.equal(
      onHost(host, 'cat /tmp/orch-tmpmode').stdout.trim(),
      '640',
      'mode set before the rename (the temp file is never wider)',
    );
    assert.equal(onHost(host, 'stat -c "%a %U" /srv/modes/app.conf').stdout.trim(), '640 www-data');
    assert.equal(noTempLeft('/srv/modes'), '0');
    // A new file without a mode: orch's own temp file, seen on the host (inotify) when its content starts to
    // arrive, is 0600 (it gets 0644 only once written, which validate cannot show). In exec mode the write
    // streams the bytes from stdin as they come, so the watcher sees them arrive; the runner's write frame runs
    // the same Perl code (file-write.ts) with the bytes all there, too fast to watch (test/unit/file-write).
    const seen = watchTempFiles('/srv/modes', () => {
      const big = join(mkdtempSync(join(tmpdir(), 'orch-big-')), 'big.bin');
      writeFileSync(big, Buffer.alloc(4 * 1024 * 1024, 'x'));
      const n = orch(['run', INVENTORY, pb(`    - copy: src=${big} dest=/srv/modes/new.bin\n`, '  become: yes\n')], {
        env: { ORCH_SSH_MODE: 'exec' },
      });
      assert.equal(n.code, 0, summary(n));
    });
    assert.ok(seen.length > 0, 'the watcher saw orch create its temp file');
    assert.deepEqual([...new Set(seen.map((l) => l.split(' ')[1]))], ['600'], seen.join('; '));
    assert.equal(onHost(host, 'stat -c %a /srv/modes/new.bin').stdout.trim(), '644');
    assert.equal(noTempLeft('/srv/modes'), '0');
    return `validate saw 640 on the temp file; final 640 www-data; 0 temp files left; new file's temp seen at ${seen[0]?.split(' ')[1]}`;
  },
);

/** Python on the host (inotify through ctypes): each .orch-tmp file in `dir`, with its mode at its first write. */
const WATCHER = `import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
d, log = sys.argv[1], sys.argv[2]
libc.inotify_add_watch(fd, d.encode(), 0x2)
seen = set()
out = open(log, "a")
out.write("ready\\n"); out.flush()
while True:
    buf = os.read(fd, 65536); i = 0
    while i < len(buf):
        wd, mask, cookie, ln = struct.unpack_from("iIII", buf, i)
        name = buf[i + 16:i + 16 + ln].rstrip(b"\\0").decode(); i += 16 + ln
        if name.startswith(".orch-tmp") and name not in seen:
            seen.add(name)
            try: out.write("%s %o\\n" % (name, os.stat(os.path.join(d, name)).st_mode & 0o777)); out.flush()
            except FileNotFoundError: pass
`;

/** The temp files orch wrote in `dir` on the host while `run` ran: "name mode" lines. */
function watchTempFiles(dir: string, run: () => void): string[] {
  const py = Buffer.from(WATCHER).toString('base64');
  onHost(
    host,
    `echo ${py} | base64 -d > /tmp/orch-watch.py && rm -f /tmp/orch-watch.log && ` +
      `{ setsid python3 /tmp/orch-watch.py ${dir} /tmp/orch-watch.log >/dev/null 2>&1 </dev/null & echo $! > /tmp/orch-watch.pid; } && ` +
      'for i in $(seq 50); do grep -q ready /tmp/orch-watch.log 2>/dev/null && break; sleep 0.1; done',
  );
  try {
    run();
  } finally {
    onHost(host, 'kill $(cat /tmp/orch-watch.pid)');
  }
  return onHost(host, 'cat /tmp/orch-watch.log')
    .stdout.split('\n')
    .filter((l) => l.startsWith('.orch-tmp'));
}

fault(
  'orch as an unprivileged user on the control machine',
  'run succeeds as a non-root local user; become works on the target',
  () => {
    spawnSync('sh', ['-c', 'id orchuser >/dev/null 2>&1 || useradd -m orchuser']);
    const home = '/home/orchuser';
    mkdirSync(join(home, '.ssh'), { recursive: true });
    copyFileSync(join(LAB_DIR, 'id_ed25519'), join(home, '.ssh', 'id_ed25519'));
    copyFileSync(join(LAB_DIR, 'known_hosts'), join(home, '.ssh', 'known_hosts'));
    const inv = join(home, 'hosts');
    writeFileSync(
      inv,
      readFileSync(INVENTORY, 'utf8')
        .replaceAll(join(LAB_DIR, 'id_ed25519'), join(home, '.ssh', 'id_ed25519'))
        .replaceAll(join(LAB_DIR, 'known_hosts'), join(home, '.ssh', 'known_hosts')),
    );
    const play = join(home, 'pb.yml');
    writeFileSync(
      play,
      `- hosts: ${host}\n  gather_facts: no\n  tasks:\n    - command: id -u\n      become: yes\n      register: who\n    - assert: { that: "who.stdout == '0'" }\n`,
    );
    spawnSync('chown', ['-R', 'orchuser:orchuser', home]);
    chmodSync(join(home, '.ssh', 'id_ed25519'), 0o600);
    const r = spawnSync('runuser', ['-u', 'orchuser', '--', ORCH, 'run', inv, play, '--output', 'lines'], {
      encoding: 'utf8',
      cwd: home,
      env: { PATH: process.env.PATH, HOME: home, CI: '1' },
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(statSync(join(home, '.orch', 'runs')).uid !== 0, 'state written as that user');
    assert.ok(readdirSync(join(home, '.orch', 'runs')).length > 0);
    return 'exit 0 as orchuser (uid ≠ 0); target uid 0 through sudo; run log in that user’s .orch/';
  },
);

fault(
  'a run that fails after a notify',
  'handler not run, kept on the target; the next run runs it and forgets it',
  () => {
    onHost(host, 'rm -rf /tmp/orch-handler-ran /tmp/orch-notify-src ~deploy/.orch/pending-handlers');
    const p = writePlaybook(`- hosts: ${host}
  gather_facts: no
  tasks:
    - copy: dest=/tmp/orch-notify-src content=v1
      notify: mark
    - fail: msg="broke after the notify"
      when: not (ok | default(false) | bool)
  handlers:
    - name: mark
      file: path=/tmp/orch-handler-ran state=touch
`);
    const first = orch(['run', INVENTORY, p]);
    assert.equal(first.code, 2);
    assert.equal(onHost(host, 'test -e /tmp/orch-handler-ran && echo ran || echo not-run').stdout.trim(), 'not-run');
    assert.equal(onHost(host, 'cat ~deploy/.orch/pending-handlers/*').stdout.trim(), '["mark"]', 'kept on the target');
    const second = orch(['run', INVENTORY, p, '-e', 'ok=true']);
    assert.equal(second.code, 0);
    assert.equal(
      results(second).find((x) => x.task === 'copy')?.status ?? results(second)[0]?.status,
      'ok',
      'nothing changed this time',
    );
    assert.equal(
      onHost(host, 'test -e /tmp/orch-handler-ran && echo ran || echo not-run').stdout.trim(),
      'ran',
      'the handler ran at the next run',
    );
    assert.equal(onHost(host, 'ls ~deploy/.orch/pending-handlers | wc -l').stdout.trim(), '0', 'and is forgotten');
    return 'run 1: exit 2, handler pending in ~/.orch/pending-handlers on the host; run 2: no change, handler ran, pending file removed';
  },
);

for (const [signal, exitCode] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  fault(`${signal} mid-run`, `in-flight task finishes, no new task, exit ${exitCode}, lock released`, async () => {
    onHost(host, 'rm -f /tmp/orch-sig-1 /tmp/orch-sig-2');
    const bg = orchBackground([
      'run',
      INVENTORY,
      pb('    - shell: sleep 2 && touch /tmp/orch-sig-1\n    - file: path=/tmp/orch-sig-2 state=touch\n'),
    ]);
    let out = '';
    bg.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!out.includes('task_start') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    bg.kill(signal);
    const code = await new Promise<number>((res) => bg.on('exit', (c) => res(c ?? -1)));
    assert.equal(code, exitCode);
    assert.match(out, /"type":"interrupt"/);
    assert.equal(onHost(host, 'ls /tmp/orch-sig-1 /tmp/orch-sig-2 2>/dev/null').stdout.trim(), '/tmp/orch-sig-1');
    assert.equal(
      orch(['lock', 'status', 'inventory', '--local'], { json: false }).stdout.trim(),
      'inventory: not locked',
    );
    return `exit ${code}; interrupt reported; first task finished, second never started; lock released`;
  });
}

fault(
  'secrets: vaulted vars and no_log values never printed',
  'secret reaches the target; absent from lines, NDJSON, run log, --log file, diffs and error messages',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'orch-secret-'));
    mkdirSync(join(dir, 'inv', 'group_vars', 'all'), { recursive: true });
    writeFileSync(join(dir, 'inv', 'hosts'), readFileSync(INVENTORY, 'utf8'));
    copyFileSync(
      join(ROOT, 'test', 'fixtures', 'vault', 'secrets.yml'),
      join(dir, 'inv', 'group_vars', 'all', 'vault.yml'),
    );
    writeFileSync(
      join(dir, 'inv', 'group_vars', 'all', 'inline.yml'),
      readFileSync(join(ROOT, 'test', 'fixtures', 'vault', 'inline.yml'), 'utf8'),
    );
    onHost(host, 'rm -f /tmp/orch-secret.conf');
    const p = writePlaybook(
      `- hosts: ${host}
  gather_facts: no
  tasks:
    - template: src=app.conf.j2 dest=/tmp/orch-secret.conf
    - debug: msg="password is {{ db_password }}"
    - command: echo no-log-value-{{ 1000 + 234 }}
      no_log: true
    - fail: msg="cannot use token {{ api_token }} and {{ app_secret }}"
`,
      { 'templates/app.conf.j2': 'password={{ db_password }}\ntoken={{ api_token }}\ninline={{ app_secret }}\n' },
    );
    const pw = ['--vault-password-file', join(ROOT, 'test', 'fixtures', 'vault', 'password.txt')];
    const logFile = join(dir, 'log.ndjson');
    const lines = orch(['run', join(dir, 'inv'), p, ...pw, '--diff', '-v', '--output', 'lines', '--log', logFile], {
      json: false,
    });
    const json = orch(['run', join(dir, 'inv'), p, ...pw, '--diff', '-v']);
    assert.equal(lines.code, 2);
    assert.equal(
      onHost(host, 'cat /tmp/orch-secret.conf').stdout,
      'password=s3cr3t-from-ansible\ntoken=tok-99887766\ninline=inline-s3cret-value\n',
      'the target got the plaintext',
    );
    const runs = join(ROOT, '.orch', 'runs');
    const runLogs = readdirSync(runs)
      .sort()
      .slice(-2)
      .map((f) => readFileSync(join(runs, f), 'utf8'));
    const everything = [
      lines.stdout,
      lines.stderr,
      json.stdout,
      json.stderr,
      readFileSync(logFile, 'utf8'),
      ...runLogs,
    ].join('\n');
    for (const secret of [
      's3cr3t-from-ansible',
      'tok-99887766',
      'inline-s3cret-value',
      'no-log-value-1234',
      'correct horse battery staple',
    ]) {
      assert.ok(!everything.includes(secret), `'${secret}' appears in the output`);
    }
    assert.match(lines.stdout, /password=\*{8}/, 'the diff shows the line, redacted');
    assert.match(lines.stdout, /cannot use token \*{8} and \*{8}/, 'the error message is redacted');
    return `exit 2; 5 secrets, 0 occurrences in ${Math.round(everything.length / 1024)} KB of output (lines, NDJSON, run logs, --log); shown as ********`;
  },
);

fault('unknown command-line subcommand', 'exit 5, "unknown command", hint', () => {
  const r = orch(['aply', INVENTORY], { json: false });
  assert.equal(r.code, 5);
  assert.match(r.stderr, /unknown command 'aply'/);
  return `exit ${r.code}; ${errorLines(r.stderr)}`;
});
