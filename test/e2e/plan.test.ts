import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import type { PlanDocument, PlanEntry } from '../../src/ui/plan.js';
import { HOSTS, INVENTORY, ROOT, failures, onHost, orch, results, writePlaybook } from '../helpers/lab.js';

const [a, b] = HOSTS as [string, string];
const SCHEMA = join(ROOT, 'test', 'schemas', 'plan.schema.json');

const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(SCHEMA, 'utf8')) as object);

/** Errors of a document against test/schemas/plan.schema.json (ajv: a validator orch does not share code with). */
function schemaErrors(doc: unknown): string {
  return validate(doc) ? '' : JSON.stringify(validate.errors);
}

function plan(pb: string, extra: string[] = []): { code: number; doc: PlanDocument; stderr: string } {
  const r = orch(['plan', INVENTORY, pb, '--output', 'json', ...extra], { json: false });
  let doc: PlanDocument;
  try {
    doc = JSON.parse(r.stdout) as PlanDocument;
  } catch {
    throw new Error(`orch plan printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, doc, stderr: r.stderr };
}

function entry(doc: PlanDocument, host: string, task: string): PlanEntry {
  const e = doc.hosts.find((h) => h.host === host)?.tasks.find((t) => t.task === task);
  assert.ok(e, `no plan entry for ${host} / ${task}`);
  return e;
}

const FILES = '/etc/plan-token /etc/plan-app.conf /etc/plan-long /etc/plan-motd /etc/sysctl.d/99-plan.conf';

test('plan: a registered command feeding a template and a when: dependants unknown, nothing changed, apply makes exactly the planned changes', () => {
  for (const h of [a, b]) onHost(h, `rm -f ${FILES}; sysctl -qw net.ipv4.ip_forward=0`);
  const pb = writePlaybook(
    `- hosts: ${a}:${b}
  become: yes
  tasks:
    - name: read the kernel release
      command: uname -r
      register: kernel
      changed_when: false
    - name: generate a token
      shell: date +%s%N | tee /etc/plan-token
      register: token
    - name: config from the token
      template: src=app.conf.j2 dest=/etc/plan-app.conf
    - name: only when the token is long
      copy: content="long\\n" dest=/etc/plan-long
      when: token.stdout | length > 5
    - name: motd
      copy: content="kernel {{ kernel.stdout }}\\n" dest=/etc/plan-motd
    - name: forwarding
      sysctl: name=net.ipv4.ip_forward value=1 sysctl_file=/etc/sysctl.d/99-plan.conf
    - name: a directory that is there
      file: path=/etc state=directory
`,
    { 'templates/app.conf.j2': 'token={{ token.stdout }}\n' },
  );
  const p = plan(pb, ['--detailed-exitcode']);
  assert.equal(p.code, 2, `changes pending: exit 2\n${p.stderr}`);
  assert.equal(schemaErrors(p.doc), '', 'the JSON plan validates against test/schemas/plan.schema.json');
  const kernel = onHost(a, 'uname -r').stdout.trim();
  for (const h of [a, b]) {
    assert.equal(
      entry(p.doc, h, 'read the kernel release').status,
      'unchanged',
      'a changed_when: false command is a query',
    );
    assert.equal(entry(p.doc, h, 'generate a token').status, 'change');
    for (const t of ['config from the token', 'only when the token is long']) {
      const e = entry(p.doc, h, t);
      assert.equal(e.status, 'unknown', `${t} reads the token`);
      assert.equal(e.reason, `depends on 'generate a token' (${pb}:8)`);
    }
    const motd = entry(p.doc, h, 'motd');
    assert.equal(motd.status, 'change');
    assert.equal(
      motd.diff?.[0]?.after,
      `kernel ${kernel}\n`,
      'the query command ran for real: its output is in the diff',
    );
    const fwd = entry(p.doc, h, 'forwarding');
    assert.equal(fwd.status, 'change');
    assert.deepEqual(
      fwd.diff?.map((d) => [d.path, d.before, d.after]),
      [
        ['/etc/sysctl.d/99-plan.conf', '', 'net.ipv4.ip_forward=1\n'],
        ['/proc/sys/net/ipv4/ip_forward', '0\n', '1\n'],
      ],
    );
    assert.equal(entry(p.doc, h, 'a directory that is there').status, 'unchanged');
    // nothing changed on the host (checked over plain ssh)
    assert.equal(
      onHost(h, `ls ${FILES} 2>/dev/null | wc -l; sysctl -n net.ipv4.ip_forward`).stdout,
      '0\n0\n',
      'plan changed nothing',
    );
  }
  assert.deepEqual(p.doc.summary, { hosts: 2, change: 6, unknown: 4, unchanged: 6, skip: 0, failed: 0 });

  const run = orch(['run', INVENTORY, pb]);
  assert.equal(run.code, 0, failures(run));
  for (const h of [a, b]) {
    const planned = p.doc.hosts.find((x) => x.host === h)?.tasks ?? [];
    const changed = new Set(
      results(run)
        .filter((r) => r.host === h && r.status === 'changed')
        .map((r) => r.task),
    );
    for (const t of planned) {
      if (t.status === 'change') assert.ok(changed.has(t.task), `${h}: planned change '${t.task}' was made`);
      if (t.status === 'unchanged' || t.status === 'skip')
        assert.ok(!changed.has(t.task), `${h}: '${t.task}' was planned unchanged and did not change`);
    }
    assert.equal(onHost(h, 'cat /etc/plan-motd').stdout, entry(p.doc, h, 'motd').diff?.[0]?.after);
    assert.equal(onHost(h, 'sysctl -n net.ipv4.ip_forward').stdout, '1\n');
    assert.equal(onHost(h, 'cat /etc/plan-app.conf').stdout, `token=${onHost(h, 'cat /etc/plan-token').stdout}`);
  }
});

test('plan --detailed-exitcode: 0 when converged, 2 after drift made by hand over ssh, 0 again after apply', () => {
  onHost(a, 'rm -f /etc/plan-drift.conf /etc/plan-drift-lines');
  const pb = writePlaybook(`- hosts: ${a}
  become: yes
  gather_facts: no
  tasks:
    - name: drift config
      copy: content="port=8080\\n" dest=/etc/plan-drift.conf mode="0640"
    - name: drift line
      lineinfile: path=/etc/plan-drift-lines line=keep create=yes
`);
  const first = orch(['run', INVENTORY, pb]);
  assert.equal(first.code, 0, failures(first));
  assert.equal(plan(pb, ['--detailed-exitcode']).code, 0, 'converged: nothing to change');
  onHost(a, 'echo port=9090 > /etc/plan-drift.conf');
  const drift = plan(pb, ['--detailed-exitcode']);
  assert.equal(drift.code, 2, 'drift: changes pending');
  const e = entry(drift.doc, a, 'drift config');
  assert.equal(e.status, 'change');
  assert.deepEqual([e.diff?.[0]?.before, e.diff?.[0]?.after], ['port=9090\n', 'port=8080\n']);
  assert.equal(entry(drift.doc, a, 'drift line').status, 'unchanged');
  assert.equal(onHost(a, 'cat /etc/plan-drift.conf').stdout, 'port=9090\n', 'the plan did not repair the drift');
  // lines output (not a terminal): the diff and the summary line
  const lines = orch(['plan', INVENTORY, pb], { json: false });
  assert.match(lines.stdout, /~ change: drift config \[.*playbook\.yml:5\]/);
  assert.match(lines.stdout, /-port=9090\n\s*\+port=8080/);
  assert.match(lines.stdout, /^1 host: 1 to change, 0 unknown, 1 unchanged$/m);
  const fix = orch(['run', INVENTORY, pb]);
  assert.equal(fix.code, 0, failures(fix));
  assert.equal(onHost(a, 'cat /etc/plan-drift.conf').stdout, 'port=8080\n');
  assert.equal(plan(pb, ['--detailed-exitcode']).code, 0, 'apply cleared the drift');
});

test('plan --detailed-exitcode: a failing task is an error (1), not "changes pending"', () => {
  const pb = writePlaybook(`- hosts: ${a}
  gather_facts: no
  tasks:
    - name: a missing file read for real
      slurp: src=/nonexistent/plan-file
`);
  const p = plan(pb, ['--detailed-exitcode']);
  assert.equal(p.code, 1);
  assert.equal(entry(p.doc, a, 'a missing file read for real').status, 'failed');
  assert.equal(schemaErrors(p.doc), '');
});

test('plan schema check can fail: a document with an unknown status is refused', () => {
  const bad = {
    format: 'orch-plan',
    version: 1,
    hosts: [{ host: a, tasks: [{ task: 't', module: 'copy', status: 'ok' }] }],
    summary: { hosts: 1, change: 0, unknown: 0, unchanged: 0, skip: 0, failed: 0 },
  };
  assert.notEqual(schemaErrors(bad), '');
  const unknownWithoutWhy = { ...bad, hosts: [{ host: a, tasks: [{ task: 't', module: 'copy', status: 'unknown' }] }] };
  assert.notEqual(schemaErrors(unknownWithoutWhy), '');
});

/** Run orch on a pseudo-terminal (util-linux `script`), answering `answer` to its question. */
function onTerminal(args: string[], answer: string): { code: number; stdout: string } {
  const cmd = [join(ROOT, 'bin', 'orch'), ...args].map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    encoding: 'utf8',
    input: `${answer}\n`,
    env: { ...process.env, CI: '1' },
    cwd: ROOT,
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout };
}

test('apply --plan: shows the plan and asks on a terminal; "no" changes nothing, "yes" applies; --yes for scripts', () => {
  const file = '/etc/plan-ask.conf';
  onHost(a, `rm -f ${file}`);
  const pb = writePlaybook(`- hosts: ${a}
  become: yes
  gather_facts: no
  tasks:
    - name: asked config
      copy: content="port=8080\\n" dest=${file}
`);
  const no = onTerminal(['apply', INVENTORY, pb, '--plan'], 'no');
  assert.equal(no.code, 0);
  assert.match(no.stdout, /\+port=8080/);
  assert.match(no.stdout, /Apply these changes\?/);
  assert.match(no.stdout, /Not applied/);
  assert.equal(onHost(a, `test -e ${file}; echo $?`).stdout, '1\n', '"no": the file is not there');
  const yes = onTerminal(['apply', INVENTORY, pb, '--plan'], 'yes');
  assert.equal(yes.code, 0, yes.stdout);
  assert.equal(onHost(a, `cat ${file}`).stdout, 'port=8080\n', '"yes": applied');

  onHost(a, `rm -f ${file}`);
  const noTerminal = orch(['apply', INVENTORY, pb, '--plan'], { json: false });
  assert.equal(noTerminal.code, 5, 'no terminal and no --yes: a usage error');
  assert.match(noTerminal.stderr, /--yes/);
  assert.equal(onHost(a, `test -e ${file}; echo $?`).stdout, '1\n');
  const scripted = orch(['apply', INVENTORY, pb, '--plan', '--yes'], { json: false });
  assert.equal(scripted.code, 0, scripted.stderr);
  assert.match(scripted.stdout, /1 host: 1 to change, 0 unknown, 0 unchanged/);
  assert.match(scripted.stdout, /changed: \[.*\] asked config/, 'then the apply ran as usual');
  assert.equal(onHost(a, `cat ${file}`).stdout, 'port=8080\n');
  const again = orch(['apply', INVENTORY, pb, '--plan', '--yes'], { json: false });
  assert.match(again.stdout, /Nothing to change/);
});

test("--check uses the plan engine: a skipped command's registered result read later is unknown, not a failure; the rest keeps Ansible's meaning", () => {
  onHost(a, 'rm -f /etc/plan-check.conf /etc/plan-check-token');
  const pb = writePlaybook(`- hosts: ${a}
  become: yes
  gather_facts: no
  tasks:
    - name: token
      shell: date +%s%N | tee /etc/plan-check-token
      register: token
    - name: a query
      command: cat /etc/hostname
      register: hostname
      changed_when: false
    - name: uses the token
      copy: content="{{ token.stdout }}" dest=/etc/plan-check.conf
    - name: when over the token
      debug: msg=long
      when: token.stdout | length > 5
    - name: plain config
      copy: content="x\\n" dest=/etc/plan-check.conf
    - name: guarded
      command: echo never
      args:
        creates: /etc/passwd
    - name: a registered name is defined
      debug: msg=yes
      when: token is defined
    - name: its output is not known
      debug: msg=yes
      when: token.stdout is defined
`);
  const r = orch(['apply', INVENTORY, pb, '--check']);
  assert.equal(r.code, 0, `no false failure: ${failures(r)}`);
  const by = (task: string) => {
    const e = results(r, task)[0];
    assert.ok(e, task);
    return e;
  };
  // Ansible's meaning: commands are skipped in check mode (changed_when: false ones too), guards are asked
  assert.equal(by('token').status, 'skipped');
  assert.equal(by('a query').status, 'skipped');
  assert.equal(by('guarded').status, 'ok');
  assert.equal(by('plain config').status, 'changed');
  for (const t of ['uses the token', 'when over the token']) {
    const e = by(t);
    assert.equal(e.status, 'skipped', t);
    assert.deepEqual(e.plan, { status: 'unknown', reason: `depends on 'token' (${pb}:5)` }, t);
  }
  assert.equal(by('a registered name is defined').status, 'ok', '`is defined` of a register is known');
  assert.equal(by('its output is not known').plan?.status, 'unknown');
  assert.equal(
    onHost(a, 'ls /etc/plan-check.conf /etc/plan-check-token 2>/dev/null | wc -l').stdout,
    '0\n',
    'check mode changed nothing',
  );
  const lines = orch(['apply', INVENTORY, pb, '--check'], { json: false });
  assert.match(lines.stdout, /skipped: \[.*\] uses the token: unknown: depends on 'token' \(.*:5\)/);
});

test('plan: a service a planned package install would bring is unknown, not a failure; the plan goes on', () => {
  assert.notEqual(
    onHost(a, 'dpkg -s varnish >/dev/null 2>&1; echo $?').stdout,
    '0\n',
    'varnish is not installed on the lab host',
  );
  const pb = writePlaybook(`- hosts: ${a}
  become: yes
  gather_facts: no
  tasks:
    - name: install varnish
      apt: name=varnish
    - name: varnish running
      service: name=varnish state=started
    - name: after
      copy: content="x\\n" dest=/tmp/plan-after-varnish
`);
  const p = plan(pb, ['--detailed-exitcode']);
  assert.equal(p.code, 2, p.stderr);
  assert.equal(entry(p.doc, a, 'install varnish').status, 'change');
  const svc = entry(p.doc, a, 'varnish running');
  assert.equal(svc.status, 'unknown');
  assert.match(
    svc.reason ?? '',
    new RegExp(
      `^depends on 'install varnish' \\(${pb.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5\\), which would install packages`,
    ),
  );
  assert.equal(entry(p.doc, a, 'after').status, 'change', 'planning went on');
  assert.notEqual(onHost(a, 'dpkg -s varnish >/dev/null 2>&1; echo $?').stdout, '0\n', 'nothing installed');
});

test('plan: a handler notified only by a task of unknown outcome is unknown; one notified by a planned change is a change', () => {
  const pb = writePlaybook(`- hosts: ${a}
  gather_facts: no
  handlers:
    - name: maybe restart
      command: echo restart maybe
    - name: surely restart
      command: echo restart surely
  tasks:
    - name: token
      command: echo token
      register: r
    - name: from the token
      copy: content="{{ r.stdout }}" dest=/tmp/plan-h1
      notify: maybe restart
    - name: plain
      copy: content="x" dest=/tmp/plan-h2
      notify: surely restart
`);
  onHost(a, 'rm -f /tmp/plan-h1 /tmp/plan-h2');
  const p = plan(pb);
  assert.equal(p.code, 0, p.stderr);
  const maybe = entry(p.doc, a, 'maybe restart');
  assert.equal(maybe.status, 'unknown');
  assert.equal(
    maybe.reason,
    `notified by 'from the token' (${pb}:12), whose outcome is unknown: depends on 'token' (${pb}:9)`,
  );
  assert.equal(entry(p.doc, a, 'surely restart').status, 'change');
});

test('plan: a meta end_host over an unknown is unknown, and the changes after it in the play only may happen', () => {
  const pb = writePlaybook(`- hosts: ${a}
  gather_facts: no
  tasks:
    - name: done yet
      command: echo done
      register: r
    - meta: end_host
      when: r.stdout == 'done'
    - name: after
      copy: content=x dest=/tmp/plan-after-end
`);
  onHost(a, 'rm -f /tmp/plan-after-end');
  const p = plan(pb);
  assert.equal(p.code, 0, p.stderr);
  assert.equal(entry(p.doc, a, 'meta end_host').status, 'unknown');
  const after = entry(p.doc, a, 'after');
  assert.equal(after.status, 'unknown');
  assert.match(after.reason ?? '', /^changes only if it runs: 'meta end_host' \(.*:7\) may end the play here/);
  assert.equal(after.diff?.[0]?.after, 'x', 'the change it would make is still shown');
});
