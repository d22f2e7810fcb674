/**
 * The compatibility corpus: public Ansible roles (../shared/corpus/roles, test data only) run unchanged with
 * ansible-playbook and with orch, each on a fresh lab host, twice. The end states are compared independently of
 * both tools: every file the run left in the host's overlay upper layer (bytes, mode, owner, links, deletions),
 * the installed packages (dpkg-query) and the running programs (ps).
 *   node --import tsx test/compat/corpus.ts [--roles a,b] [--tools ansible,orch]   (npm run compat)
 * writes the table to .orch/reports/corpus.md; test/compat/corpus.test.ts runs a part of it in `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { oneHostInventory } from '../helpers/lab.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
const ORCH = process.env.ORCH_BIN ?? join(ROOT, 'bin', 'orch');
export const CORPUS = process.env.ORCH_CORPUS_DIR ?? join(ROOT, '..', 'shared', 'corpus', 'roles');

export interface CorpusRole {
  name: string;
  vars: Record<string, unknown>;
  lab_vars: Record<string, unknown>;
  packages: string[];
  systemd: string;
}

export function corpusRoles(): CorpusRole[] {
  const manifest = parse(readFileSync(join(CORPUS, 'MANIFEST.yml'), 'utf8')) as { roles: CorpusRole[] };
  return manifest.roles;
}

export interface Lab {
  env: NodeJS.ProcessEnv;
  dir: string;
  inventory: string;
  prefix: string;
}

/** The lab the corpus runs on: its own names unless the caller gives a lab (the test suite does). */
export function corpusLab(env: NodeJS.ProcessEnv = process.env): Lab {
  const prefix = env.ORCH_LAB_PREFIX ?? 'orchc';
  const dir = env.ORCH_LAB_DIR ?? `/var/lib/orch-${prefix}-lab`;
  const inventory = env.ORCH_LAB_INVENTORY ?? join(ROOT, '.orch', `${prefix}-lab`, 'inventory');
  return {
    prefix,
    dir,
    inventory,
    env: {
      ...env,
      ORCH_LAB_PREFIX: prefix,
      ORCH_LAB_SUBNET: env.ORCH_LAB_SUBNET ?? '10.244.0',
      ORCH_LAB_DIR: dir,
      ORCH_LAB_INVENTORY: inventory,
      CI: '1',
    },
  };
}

/** Runs start in a directory of their own: orch keeps run locks and logs under the working directory's .orch/. */
const WORK_DIR = mkdtempSync(join(tmpdir(), 'orch-corpus-work-'));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 900_000) {
  return spawnSync(cmd, args, { encoding: 'utf8', env, timeout: timeoutMs, maxBuffer: 1 << 28, cwd: WORK_DIR });
}

export function labCommand(lab: Lab, ...args: string[]): void {
  const r = run(ORCH, ['lab', ...args], lab.env);
  if (r.status !== 0) throw new Error(`orch lab ${args.join(' ')}: ${r.stderr}`);
}

/** A one-host inventory in Ansible's terms (both tools read it). */
function inventoryFor(lab: Lab, host: string): string {
  return oneHostInventory(host, 'corpus', lab.inventory, lab.dir);
}

/**
 * The role under roles/<name> next to a playbook that applies it with its manifest vars (lab vars beside it, see
 * labVarsArgs).
 */
export function corpusPlaybook(role: CorpusRole): string {
  const dir = mkdtempSync(join(tmpdir(), `orch-corpus-${role.name}-`));
  mkdirSync(join(dir, 'roles'));
  symlinkSync(join(CORPUS, role.name), join(dir, 'roles', role.name));
  const play = [{ hosts: 'corpus', become: true, vars: role.vars, roles: [role.name] }];
  const file = join(dir, 'site.yml');
  writeFileSync(file, JSON.stringify(play, null, 2));
  // lab-only settings as extra vars: above role vars and include_vars, and never checked against a role's
  // argument_specs
  writeFileSync(join(dir, 'lab-vars.json'), JSON.stringify(role.lab_vars ?? {}));
  return file;
}

function labVarsArgs(playbook: string): string[] {
  return ['-e', `@${join(playbook, '..', 'lab-vars.json')}`];
}

export interface Recap {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
}

export interface ToolRun {
  code: number;
  recap?: Recap;
  /** first failure, or the error that stopped the run before any host */
  error?: string;
  seconds: number;
}

function ansibleRecap(out: string, host: string): Recap | undefined {
  const m = new RegExp(`^${host}\\s*:\\s*ok=(\\d+)\\s+changed=(\\d+)\\s+unreachable=(\\d+)\\s+failed=(\\d+)`, 'm').exec(
    out,
  );
  return m ? { ok: Number(m[1]), changed: Number(m[2]), unreachable: Number(m[3]), failed: Number(m[4]) } : undefined;
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0)
      ?.slice(0, 300) ?? ''
  );
}

export function runAnsible(lab: Lab, host: string, playbook: string): ToolRun {
  const started = Date.now();
  const r = run('ansible-playbook', ['-i', inventoryFor(lab, host), playbook, ...labVarsArgs(playbook)], {
    ...lab.env,
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
  });
  const out = `${r.stdout}\n${r.stderr}`;
  const fatal = /^(fatal|ERROR!).*$/m.exec(out)?.[0];
  return {
    code: r.status ?? -1,
    recap: ansibleRecap(r.stdout, host),
    error: r.status === 0 ? undefined : firstLine(fatal ?? out.slice(-600)),
    seconds: (Date.now() - started) / 1000,
  };
}

interface OrchEvent {
  type: string;
  ignored?: boolean;
  status?: string;
  msg?: string;
  task?: string;
  message?: string;
  stats?: Record<string, Recap>;
}

export function runOrch(lab: Lab, host: string, playbook: string): ToolRun {
  const started = Date.now();
  const r = run(
    ORCH,
    ['run', inventoryFor(lab, host), playbook, ...labVarsArgs(playbook), '--output', 'json'],
    lab.env,
  );
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as OrchEvent);
  const recap = events.find((e) => e.type === 'recap')?.stats?.[host];
  const failed = events.find(
    (e) => e.type === 'host_result' && !e.ignored && (e.status === 'failed' || e.status === 'unreachable'),
  );
  const error = failed ? `${failed.task}: ${failed.msg ?? ''}` : r.status !== 0 ? firstLine(r.stderr) : undefined;
  return {
    code: r.status ?? -1,
    recap,
    error: error ? firstLine(error) : undefined,
    seconds: (Date.now() - started) / 1000,
  };
}

/** Paths whose content differs between any two runs (logs, caches, keys and data made at install time). */
const NOISE = [
  /^\/(tmp|var\/tmp|var\/log|var\/cache|var\/lib\/apt|var\/lib\/dpkg|var\/spool|var\/mail|run)(\/|$)/,
  /^\/(root|home\/[^/]+)\/\.(ansible|orch|cache|bash_history|lesshst|sudo_as_admin_successful)(\/|$)/,
  /^\/root\/\.(bashrc|profile)$/,
  /^\/etc\/ssh\/(ssh_host_|orch_lab_host_)/,
  /^\/etc\/ssh\/sshd_config\.d\/00-orch-lab\.conf$/,
  /^\/etc\/(hostname|hosts|orch-lab-host|ld\.so\.cache|\.pwd\.lock|passwd-|group-|shadow-|gshadow-|subuid-|subgid-|machine-id)$/,
  /^\/etc\/ssl\/(certs|private)\/ssl-cert-snakeoil/,
  /^\/etc\/ssl\/certs\/[0-9a-f]{8}\.\d$/,
  /^\/var\/lib\/(postgresql|redis|chrony|logrotate|systemd|ucf|sudo|python|private|polkit-1|sasl2)(\/|$)/,
  /^\/usr\/sbin\/init$/,
  /(^|\/)__pycache__(\/|$)|\.pyc$/,
];

export interface Entry {
  kind: 'file' | 'dir' | 'link' | 'deleted' | 'other';
  mode: string;
  owner: string;
  detail: string;
}

/** What a run left on a host: every path in its overlay upper layer, less the noise. */
export function upperState(lab: Lab, host: string): Map<string, Entry> {
  const upper = join(lab.dir, 'hosts', host, 'upper');
  const out = new Map<string, Entry>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(upper, rel))) {
      const path = `${rel}/${name}`;
      if (NOISE.some((re) => re.test(path))) continue;
      // a backup's name holds the writer's pid and the time: compared as FILE.<pid>.<date>~
      const key = path.replace(/\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/, '.<pid>.<date>~');
      const st = lstatSync(join(upper, path));
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      const owner = `${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        out.set(key, { kind: 'dir', mode, owner, detail: '' });
        walk(path);
      } else if (st.isSymbolicLink())
        out.set(key, { kind: 'link', mode: '', owner, detail: readlinkSync(join(upper, path)) });
      else if (st.isCharacterDevice() && st.rdev === 0)
        out.set(key, { kind: 'deleted', mode: '', owner: '', detail: '' });
      // the host's own name (hostname, mailname, templates using inventory_hostname) and pamd's time stamp are the
      // expected differences
      else if (st.isFile())
        out.set(key, {
          kind: 'file',
          mode,
          owner,
          detail: createHash('sha1')
            .update(
              readFileSync(join(upper, path), 'latin1')
                .split(host)
                .join('<host>')
                .replace(/^# Updated by Ansible - \S+$/m, '# Updated by Ansible - <time>'),
              'latin1',
            )
            .digest('hex'),
        });
      else out.set(key, { kind: 'other', mode, owner, detail: '' });
    }
  };
  if (existsSync(upper)) walk('');
  return out;
}

function onHost(lab: Lab, host: string, address: string, command: string): string {
  const r = run(
    'ssh',
    [
      '-q',
      '-i',
      join(lab.dir, 'id_ed25519'),
      '-o',
      `UserKnownHostsFile=${join(lab.dir, 'known_hosts')}`,
      '-o',
      'BatchMode=yes',
      `deploy@${address}`,
      command,
    ],
    lab.env,
    60_000,
  );
  return r.stdout;
}

const TRANSIENT = new Set(['ps', 'sh', 'bash', 'sleep', 'sshd', 'sudo', 'sort', 'uniq', 'host.sh']);

/** Packages (with versions and states) and running programs, read over plain ssh. */
export function systemState(lab: Lab, host: string, address: string): { packages: string[]; programs: string[] } {
  const packages = onHost(lab, host, address, "dpkg-query -W -f='${binary:Package} ${Version} ${db:Status-Abbrev}\\n'")
    .split('\n')
    .filter(Boolean)
    .sort();
  const programs = [
    ...new Set(
      onHost(lab, host, address, 'ps -e -o comm=')
        .split('\n')
        .map((s) => s.trim())
        .filter((s) => s && !TRANSIENT.has(s)),
    ),
  ].sort();
  return { packages, programs };
}

/** The first few differences between two hosts' end states, or [] when they are the same. */
export function compareStates(
  lab: Lab,
  a: { host: string; address: string },
  b: { host: string; address: string },
  limit = 5,
): string[] {
  const diffs: string[] = [];
  const ua = upperState(lab, a.host);
  const ub = upperState(lab, b.host);
  const show = (e: Entry | undefined) =>
    e ? `${e.kind} ${e.mode} ${e.owner} ${e.detail.slice(0, 12)}`.trim() : 'absent';
  for (const path of [...new Set([...ua.keys(), ...ub.keys()])].sort()) {
    const x = ua.get(path);
    const y = ub.get(path);
    if (x?.kind === 'dir' && y === undefined) continue; // a directory copied up only to hold a noise file
    if (y?.kind === 'dir' && x === undefined) continue;
    if (show(x) !== show(y)) diffs.push(`${path}: ansible ${show(x)}, orch ${show(y)}`);
  }
  const sa = systemState(lab, a.host, a.address);
  const sb = systemState(lab, b.host, b.address);
  const setDiff = (label: string, xs: string[], ys: string[]) => {
    const only = (p: string[], q: string[]) => p.filter((v) => !q.includes(v));
    for (const v of only(xs, ys)) diffs.push(`${label} only after ansible: ${v}`);
    for (const v of only(ys, xs)) diffs.push(`${label} only after orch: ${v}`);
  };
  setDiff('package', sa.packages, sb.packages);
  setDiff('running', sa.programs, sb.programs);
  return diffs.slice(0, limit);
}

export interface RoleOutcome {
  role: string;
  ansible?: [ToolRun, ToolRun];
  orch?: [ToolRun, ToolRun];
  differences: string[];
}

function labAddress(lab: Lab, host: string): string {
  const line =
    readFileSync(lab.inventory, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${host} `)) ?? '';
  return /ansible_host=(\S+)/.exec(line)?.[1] ?? host;
}

/** Run one role with each tool on its own fresh host (hosts 1 and 2 of the lab), twice, and compare. */
export function runRole(lab: Lab, role: CorpusRole, tools: { ansible: boolean; orch: boolean }): RoleOutcome {
  const [ha, ho] = [`${lab.prefix}1`, `${lab.prefix}2`];
  labCommand(lab, 'reset', ha, ho);
  const playbook = corpusPlaybook(role);
  const outcome: RoleOutcome = { role: role.name, differences: [] };
  if (tools.ansible) outcome.ansible = [runAnsible(lab, ha, playbook), runAnsible(lab, ha, playbook)];
  if (tools.orch) outcome.orch = [runOrch(lab, ho, playbook), runOrch(lab, ho, playbook)];
  if (tools.ansible && tools.orch)
    outcome.differences = compareStates(
      lab,
      { host: ha, address: labAddress(lab, ha) },
      { host: ho, address: labAddress(lab, ho) },
    );
  return outcome;
}

function cell(runs: [ToolRun, ToolRun] | undefined): string {
  if (!runs) return 'not run';
  const [first, second] = runs;
  if (first.code !== 0) return `fails: ${first.error ?? `exit ${first.code}`}`;
  if (second.code !== 0) return `run 2 fails: ${second.error ?? `exit ${second.code}`}`;
  const changed = second.recap?.changed ?? -1;
  return changed === 0 ? `ok, converged (${first.seconds.toFixed(0)} s)` : `ok, run 2 changed=${changed}`;
}

export function table(outcomes: RoleOutcome[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = outcomes.map(
    (o) =>
      `| ${o.role} | ${esc(cell(o.ansible))} | ${esc(cell(o.orch))} | ${esc(o.differences[0] ?? (o.ansible && o.orch ? 'none' : ''))} |`,
  );
  return ['| role | ansible-playbook | orch | first difference in end state |', '|---|---|---|---|', ...rows].join(
    '\n',
  );
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const only = opt('roles')?.split(',');
  const tools = (opt('tools') ?? 'ansible,orch').split(',');
  const lab = corpusLab();
  labCommand(lab, 'up', '2');
  const outcomes: RoleOutcome[] = [];
  try {
    for (const role of corpusRoles().filter((r) => !only || only.includes(r.name))) {
      const o = runRole(lab, role, { ansible: tools.includes('ansible'), orch: tools.includes('orch') });
      outcomes.push(o);
      console.log(
        `${o.role}: ansible ${cell(o.ansible)} | orch ${cell(o.orch)}${o.differences.length ? `\n  ${o.differences.join('\n  ')}` : ''}`,
      );
    }
  } finally {
    if (!process.env.ORCH_KEEP_LAB) labCommand(lab, 'down');
  }
  const report = table(outcomes);
  mkdirSync(join(ROOT, '.orch', 'reports'), { recursive: true });
  writeFileSync(join(ROOT, '.orch', 'reports', 'corpus.md'), `${report}\n`);
  console.log(`\n${report}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
