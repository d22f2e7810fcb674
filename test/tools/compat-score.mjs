#!/usr/bin/env node
// Scores orch against ansible-playbook on assert-based playbooks, the way an external check would:
// of the `assert` tasks that pass under ansible-playbook, how many pass under orch.
//
//   node test/tools/compat-score.mjs [--orch BIN] [-v] test/compat/asserts-*.yml
//
// Each playbook is copied next to itself with every assert task split into one task per condition, each with
// `ignore_errors: true` (so one failed condition does not hide the next), run once by each tool on the last host
// of the lab named by the ORCH_LAB_* variables, and the assert tasks are matched by their line. Not part of the
// test suite.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const args = process.argv.slice(2);
let orchBin = join(root, 'bin', 'orch');
let verbose = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--orch') orchBin = args[++i];
  else if (args[i] === '-v') verbose = true;
  else files.push(args[i]);
}

const prefix = process.env.ORCH_LAB_PREFIX ?? 'orcht';
const labDir = process.env.ORCH_LAB_DIR ?? `/var/lib/orch-${prefix}-lab`;
const labInventory = process.env.ORCH_LAB_INVENTORY ?? join(root, '.orch', `${prefix}-lab`, 'inventory');
const lab = readFileSync(labInventory, 'utf8');
const hostLines = lab
  .split('\n[')[1]
  .split('\n')
  .slice(1)
  .filter((l) => l.trim());
const hostLine = hostLines[hostLines.length - 1];
const host = hostLine.split(' ')[0];
const inv = join(mkdtempSync(join(tmpdir(), 'orch-score-')), 'inventory');
writeFileSync(
  inv,
  `[compat]\n${hostLine}\n\n${lab.slice(lab.indexOf('[all:vars]'))}\nansible_ssh_common_args=-o UserKnownHostsFile=${labDir}/known_hosts\nansible_python_interpreter=/usr/bin/python3\n`,
);

function ansibleRun(playbook) {
  const r = spawnSync('ansible-playbook', ['-i', inv, playbook], {
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_NOCOLOR: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.stdout.indexOf('{') < 0) throw new Error(`ansible-playbook did not run ${playbook}: ${r.stdout}${r.stderr}`);
  const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  const byLine = new Map();
  for (const play of out.plays) {
    for (const t of play.tasks) {
      const h = t.hosts[host];
      if (!h || h.action !== 'assert') continue;
      const line = Number(t.task.path.split(':').pop());
      byLine.set(line, { name: t.task.name, pass: !h.failed && !h.skipped, msg: h.msg });
    }
  }
  return byLine;
}

function orchRun(playbook) {
  const r = spawnSync(orchBin, ['run', inv, playbook, '--output', 'json'], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
    maxBuffer: 256 * 1024 * 1024,
  });
  const starts = new Map();
  const byLine = new Map();
  let error = '';
  for (const l of r.stdout.split('\n')) {
    if (!l.trim().startsWith('{')) continue;
    const e = JSON.parse(l);
    if (e.type === 'task_start') starts.set(e.taskId, e);
    if (e.type === 'run_end' && e.error) error = e.error;
    if (
      e.type === 'host_result' &&
      e.module !== 'assert' &&
      e.status === 'failed' &&
      !e.ignored &&
      e.item === undefined &&
      !error
    )
      error = `${e.task}: ${e.msg}`;
    if (e.type === 'host_result' && e.module === 'assert') {
      const s = starts.get(e.taskId);
      if (s?.line !== undefined) byLine.set(s.line, { pass: e.status === 'ok', msg: e.msg });
    }
  }
  return { byLine, error: error || (r.status !== 0 && byLine.size === 0 ? r.stderr.slice(0, 500) : '') };
}

// One assert task per condition, with ignore_errors (PyYAML reads and writes it: what Ansible itself reads).
const SPLIT = `
import sys, yaml
def walk(tasks):
    out = []
    for t in tasks or []:
        for k in ('block', 'rescue', 'always'):
            if k in t: t[k] = walk(t[k])
        a = t.get('assert', t.get('ansible.builtin.assert'))
        if isinstance(a, dict) and 'that' in a and not t.get('loop'):
            conds = a['that'] if isinstance(a['that'], list) else [a['that']]
            for i, c in enumerate(conds):
                n = dict(t)
                n.pop('ansible.builtin.assert', None)
                n['name'] = '%s [%d] %s' % (t.get('name', 'assert'), i, c)
                n['assert'] = {k: v for k, v in a.items() if k != 'that'}
                n['assert']['that'] = [c]
                n['ignore_errors'] = True
                out.append(n)
        else:
            out.append(t)
    return out
plays = yaml.safe_load(open(sys.argv[1]))
for p in plays:
    for k in ('pre_tasks', 'tasks', 'post_tasks'):
        if k in p: p[k] = walk(p[k])
yaml.safe_dump(plays, open(sys.argv[2], 'w'), sort_keys=False, width=1000)
`;

let total = 0;
let passed = 0;
for (const file of files) {
  const copy = join(dirname(file), `.score-${basename(file)}`);
  const split = spawnSync('python3', ['-c', SPLIT, file, copy], { encoding: 'utf8' });
  if (split.status !== 0) throw new Error(split.stderr);
  try {
    const a = ansibleRun(copy);
    const o = orchRun(copy);
    const mine = [...a].filter(([, t]) => t.pass);
    const ok = mine.filter(([line]) => o.byLine.get(line)?.pass);
    total += mine.length;
    passed += ok.length;
    console.log(
      `${basename(file)}: orch passes ${ok.length}/${mine.length} of the asserts ansible-playbook passes (${a.size - mine.length} fail under Ansible too)`,
    );
    if (o.error) console.log(`  orch: ${o.error}`);
    for (const [line, t] of mine) {
      const r = o.byLine.get(line);
      if (!r?.pass && (verbose || true)) console.log(`  FAIL line ${line} "${t.name}": ${r ? r.msg : 'not reached'}`);
    }
    if (verbose)
      for (const [line, t] of a) if (!t.pass) console.log(`  (ansible fails line ${line} "${t.name}": ${t.msg})`);
  } finally {
    rmSync(copy, { force: true });
  }
}
console.log(`TOTAL: ${passed}/${total} = ${total ? ((100 * passed) / total).toFixed(1) : 0}%`);
