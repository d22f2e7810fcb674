/**
 * orch vs ansible-playbook on the same lab hosts, in the same run (not part of `npm test`).
 *   npm run bench -- --hosts 10,50 --runs 3
 * For each host count: fresh hosts → first run (changes), then converged runs; orch, then Ansible at
 * defaults (forks 5), then Ansible with forks=N + pipelining + ControlPersist. Round trips per host are
 * exec requests counted in each lab host's sshd log (LogLevel DEBUG1), cross-checking orch's own count.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = new URL('../..', import.meta.url).pathname;
const ORCH = join(ROOT, 'bin', 'orch');
const PLAYBOOK = join(ROOT, 'test', 'bench', 'playbook.yml');
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10,50' },
    runs: { type: 'string', default: '3' },
    ansible: { type: 'string', default: 'auto' },
    tools: { type: 'string', default: 'orch,defaults,tuned' },
    forks: { type: 'string', default: '50' },
  },
});
const wanted = new Set(String(values.tools).split(','));
const counts = String(values.hosts).split(',').map(Number);
const runs = Number(values.runs);
const withAnsible = values.ansible === 'auto' ? existsSync('/usr/bin/ansible-playbook') : values.ansible === 'yes';
// The playbook's sysctl module lives in the ansible.posix collection: Debian's `ansible` package, not `ansible-core`
// alone.
if (withAnsible && !existsSync('/usr/lib/python3/dist-packages/ansible_collections/ansible/posix')) {
  throw new Error(
    'bench: ansible.posix collection missing (sysctl module). Run `apt-get install ansible`, or pass --ansible no.',
  );
}

// ORCH_BENCH_PREFIX / ORCH_BENCH_SUBNET: a lab of its own beside another bench on the same machine
const benchPrefix = process.env.ORCH_BENCH_PREFIX ?? 'orchb';
const labEnv = {
  ...process.env,
  ORCH_LAB_PREFIX: benchPrefix,
  ORCH_LAB_SUBNET: process.env.ORCH_BENCH_SUBNET ?? '10.215.0',
  ORCH_LAB_DIR: `/var/lib/orch-${benchPrefix === 'orchb' ? 'bench' : benchPrefix}-lab`,
  ORCH_LAB_INVENTORY: join(ROOT, '.orch', `${benchPrefix === 'orchb' ? 'bench' : benchPrefix}-lab`, 'inventory'),
  ORCH_LAB_SSHD_LOGLEVEL: 'DEBUG1',
  CI: '1',
};

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = labEnv) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 28 });
  if (r.status !== 0 && cmd !== '/usr/bin/time') throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r;
}

interface Measure {
  wallS: number;
  cpuS: number;
  rssMb: number;
  roundTrips: number;
  changed: number;
  ok: boolean;
  /** orch only: commands sent per host (each one message round trip on the runner), from its recap */
  commands?: number;
}

/** orch's own count of command round trips per host, from the NDJSON log of the run. */
function orchCommands(logFile: string): number | undefined {
  if (!existsSync(logFile)) return undefined;
  const recap = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; roundTrips?: Record<string, number> })
    .find((e) => e.type === 'recap');
  const counts = Object.values(recap?.roundTrips ?? {});
  return counts.length ? counts.reduce((a, b) => a + b, 0) / counts.length : undefined;
}

function execCount(hosts: string[]): number {
  let n = 0;
  for (const h of hosts) {
    const log = join(labEnv.ORCH_LAB_DIR, 'hosts', h, 'upper', 'var', 'log', 'orch-lab-sshd.log');
    if (existsSync(log)) n += (readFileSync(log, 'utf8').match(/request exec reply/g) ?? []).length;
  }
  return n;
}

function timed(cmd: string[], hosts: string[], env: NodeJS.ProcessEnv): Measure & { out: string } {
  const before = execCount(hosts);
  const log = join(mkdtempSync(join(tmpdir(), 'bench-log-')), 'run.ndjson');
  const isOrch = cmd[0] === ORCH;
  const r = sh('/usr/bin/time', ['-f', 'TIME %e %U %S %M', ...cmd, ...(isOrch ? ['--log', log] : [])], env);
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  const trips = (execCount(hosts) - before) / hosts.length;
  const changedMatch = [...r.stdout.matchAll(/changed=(\d+)/g)].reduce((a, x) => a + Number(x[1]), 0);
  return {
    wallS: Number(m?.[1]),
    cpuS: Number(m?.[2]) + Number(m?.[3]),
    rssMb: Number(m?.[4]) / 1024,
    roundTrips: trips,
    changed: changedMatch,
    ok: r.status === 0,
    out: r.stdout + r.stderr,
    commands: isOrch ? orchCommands(log) : undefined,
  };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] ?? NaN, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN };
}

const rows: string[] = [];
const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

for (const n of counts) {
  sh(ORCH, ['lab', 'down']);
  sh(ORCH, ['lab', 'up', String(n)]);
  const inv = labEnv.ORCH_LAB_INVENTORY;
  const hosts = Array.from({ length: n }, (_, i) => `${benchPrefix}${i + 1}`);
  const ansInv = join(mkdtempSync(join(tmpdir(), 'bench-')), 'inventory');
  writeFileSync(
    ansInv,
    `${readFileSync(inv, 'utf8')}ansible_ssh_common_args='-o UserKnownHostsFile=${labEnv.ORCH_LAB_DIR}/known_hosts'\nansible_python_interpreter=/usr/bin/python3\n`,
  );
  const tools: { name: string; cmd: (fresh: boolean) => string[]; env: NodeJS.ProcessEnv }[] = [];
  if (wanted.has('orch'))
    tools.push({
      name: 'orch',
      cmd: () => [ORCH, 'run', inv, PLAYBOOK, '--output', 'lines', '--forks', String(values.forks)],
      env: labEnv,
    });
  if (withAnsible) {
    // ANSIBLE_TIMEOUT: at forks=50 on 2 cores, sudo's prompt takes longer than the default 10 s to appear.
    const ansEnv = {
      ...labEnv,
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_STDOUT_CALLBACK: 'default',
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
      ANSIBLE_TIMEOUT: '60',
    };
    if (wanted.has('defaults'))
      tools.push({
        name: 'ansible defaults (forks 5)',
        cmd: () => ['ansible-playbook', '-i', ansInv, PLAYBOOK],
        env: ansEnv,
      });
    if (wanted.has('tuned'))
      tools.push({
        name: `ansible forks=${n}+pipelining`,
        cmd: () => ['ansible-playbook', '-i', ansInv, '-f', String(n), PLAYBOOK],
        env: { ...ansEnv, ANSIBLE_PIPELINING: 'True', ANSIBLE_SSH_ARGS: '-o ControlMaster=auto -o ControlPersist=60s' },
      });
  }
  const results = new Map<string, { first: Measure[]; conv: Measure[] }>();
  for (const tool of tools) {
    const first: Measure[] = [];
    const conv: Measure[] = [];
    for (let i = 0; i < runs; i++) {
      sh(ORCH, ['lab', 'reset', ...hosts]);
      const f = timed(tool.cmd(true), hosts, tool.env);
      if (!f.ok) throw new Error(`${tool.name} first run failed:\n${f.out.slice(-3000)}`);
      first.push(f);
      const c = timed(tool.cmd(false), hosts, tool.env);
      if (!c.ok) throw new Error(`${tool.name} converged run failed:\n${c.out.slice(-3000)}`);
      conv.push(c);
      process.stderr.write(
        `${n} hosts, ${tool.name}, run ${i + 1}: first ${f.wallS}s (${f.roundTrips.toFixed(0)} exec/host${f.commands ? `, ${f.commands.toFixed(1)} commands/host` : ''}), converged ${c.wallS}s (${c.roundTrips.toFixed(0)} exec/host${c.commands ? `, ${c.commands.toFixed(1)} commands/host` : ''}, changed=${c.changed})\n`,
      );
    }
    results.set(tool.name, { first, conv });
  }
  const anchor = results.get(`ansible forks=${n}+pipelining`);
  for (const [name, r] of results) {
    for (const kind of ['first', 'conv'] as const) {
      const ms = r[kind];
      const w = stats(ms.map((m) => m.wallS));
      const ratio = anchor ? stats(anchor[kind].map((m) => m.wallS)).median / w.median : NaN;
      const cpu = stats(ms.map((m) => m.cpuS)).median;
      rows.push(
        `| ${name} | ${n} | ${kind === 'first' ? 'first' : 'converged'} | ${fmt(w.median, 2)} | ${fmt(w.min, 2)} | ${fmt(w.max, 2)} | ${fmt(stats(ms.map((m) => m.roundTrips)).median, 0)}${ms[0]?.commands !== undefined ? ` / ${fmt(stats(ms.map((m) => m.commands ?? NaN)).median, 1)}` : ''} | ${fmt(cpu, 2)} | ${fmt(stats(ms.map((m) => m.rssMb)).median, 0)} | ${name === 'orch' ? fmt(ratio, 1) + '×' : '-'} |`,
      );
    }
  }
}
sh(ORCH, ['lab', 'down']);
console.log(
  '| tool | hosts | run | wall median s | min | max | round trips/host: sshd exec requests (/ orch commands) | controller CPU s | peak RSS MB | Ansible(forks=N+pipelining)/orch |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
