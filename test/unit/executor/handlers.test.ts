import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunEvent } from '../../../src/core/events.js';
import type { OrchError } from '../../../src/core/errors.js';
import { resultLines, runMockPlaybook, warnings, type Answer } from '../../helpers/mock-transport.js';

const flushes = (events: RunEvent[]) => events.flatMap((e) => (e.type === 'handler_flush' ? [e.handlers] : []));

/** A play on h1 (or `hosts`) with these tasks and one handler `h`. */
const withHandler = (tasks: string, o: { hosts?: string; keywords?: string } = {}) =>
  `- hosts: ${o.hosts ?? 'h1'}\n  gather_facts: false\n${o.keywords ?? ''}  tasks:\n${tasks}  handlers:\n    - { name: h, debug: msg=h }\n`;

/** h notified, then the host fails */
const NOTIFY_THEN_FAIL = '    - { name: t, command: "true", notify: h }\n    - { name: boom, fail: msg=no }\n';

test('handlers: notified by name or by a listen topic, run once, in the order of the handlers section', async () => {
  const m = await runMockPlaybook(`- hosts: h1
  gather_facts: false
  tasks:
    - { name: t1, command: "true", notify: [third, topic] }
    - { name: t2, command: "true", notify: third }
  handlers:
    - { name: first, debug: msg=1, listen: topic }
    - { name: second, debug: msg=2 }
    - { name: third, debug: msg=3 }
`);
  assert.deepEqual(resultLines(m.events), ['h1 t1 changed', 'h1 t2 changed', 'h1 first ok', 'h1 third ok']);
  assert.deepEqual(flushes(m.events), [['first', 'third']]);
});

test('handlers: a task that did not change notifies nothing; each host runs the handlers it notified', async () => {
  const m = await runMockPlaybook(
    withHandler(`    - { name: t, command: "true", changed_when: "inventory_hostname == 'h2'", notify: h }\n`, {
      hosts: 'all',
    }),
  );
  assert.deepEqual(resultLines(m.events), ['h1 t ok', 'h2 t changed', 'h2 h ok']);
});

test('handlers: meta flush_handlers runs them where it stands; notified again later, they run again at the end', async () => {
  const m = await runMockPlaybook(
    withHandler(`    - { name: t1, command: "true", notify: h }
    - meta: flush_handlers
    - { name: t2, debug: msg=between }
    - { name: t3, command: "true", notify: h }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h1 t1 changed', 'h1 h ok', 'h1 t2 ok', 'h1 t3 changed', 'h1 h ok']);
});

test('handlers: meta flush_handlers under a condition flushes only the hosts it holds for; the others at the end', async () => {
  const m = await runMockPlaybook(
    withHandler(
      `    - { name: t, command: "true", notify: h }
    - { meta: flush_handlers, when: "inventory_hostname == 'h1'" }
    - { name: b, debug: msg=b }
`,
      { hosts: 'all' },
    ),
  );
  assert.deepEqual(resultLines(m.events), ['h1 t changed', 'h2 t changed', 'h1 h ok', 'h1 b ok', 'h2 b ok', 'h2 h ok']);
});

test('handlers: pre_tasks, tasks and post_tasks each flush their own notifications at their end', async () => {
  const m = await runMockPlaybook(
    withHandler('    - { name: main, debug: msg=x }\n', {
      keywords: '  pre_tasks:\n    - { name: pre, command: "true", notify: h }\n',
    }),
  );
  assert.deepEqual(resultLines(m.events), ['h1 pre changed', 'h1 h ok', 'h1 main ok']);
});

test('handlers: a changed task notifying a name no handler answers stops the run there (as ansible-playbook 2.14)', async () => {
  const events: RunEvent[] = [];
  await assert.rejects(
    runMockPlaybook(
      withHandler('    - { name: t, command: "true", notify: [h, nosuch] }\n    - { name: after, debug: msg=x }\n'),
      'h1\n',
      {
        before: (rs) => {
          const emit = rs.emit;
          rs.emit = (e) => {
            events.push(e);
            emit(e);
          };
        },
      },
    ),
    (err: Error) =>
      /playbook\.yml:4:7: The requested handler 'nosuch' was not found in either the main handlers list nor in the listening handlers list$/.test(
        err.message,
      ),
  );
  assert.deepEqual(resultLines(events), [], "neither t's result nor any later task");
});

test('handlers: a name no handler answers, notified by a task that did not change, is no error', async () => {
  const m = await runMockPlaybook(
    withHandler(
      '    - { name: t, debug: msg=x, notify: nosuch }\n    - { name: t2, command: "true", notify: nosuch, when: false }\n',
    ),
  );
  assert.deepEqual(resultLines(m.events), ['h1 t ok', 'h1 t2 skipped']);
});

test('handlers: the error for a missing handler suggests a close name', async () => {
  await assert.rejects(
    runMockPlaybook(withHandler('    - { name: t, command: "true", notify: hh }\n')),
    (err: OrchError) => /'hh' was not found/.test(err.message) && err.hint === "Did you mean 'h'?",
  );
});

test('handlers: with error_on_missing_handler off, a missing one is a warning per host; the others run', async () => {
  const m = await runMockPlaybook(
    withHandler('    - { name: t, command: "true", notify: [h, nosuch] }\n    - { name: after, debug: msg=x }\n'),
    'h1\n',
    { run: { warnOnMissingHandler: true } },
  );
  assert.deepEqual(resultLines(m.events), ['h1 t changed', 'h1 after ok', 'h1 h ok']);
  assert.deepEqual(warnings(m.events), [
    "The requested handler 'nosuch' was not found in either the main handlers list nor in the listening handlers list",
  ]);
});

test('handlers: a host that fails after notifying does not run them; they are kept on the host for the next run', async () => {
  const m = await runMockPlaybook(withHandler(NOTIFY_THEN_FAIL));
  assert.deepEqual(resultLines(m.events), ['h1 t changed', 'h1 boom failed']);
  const save = m.sent.find((c) => c.command.includes('pending-handlers') && c.command.includes('mv -f'));
  assert.equal(save?.opts.stdin, '["h"]', 'the names are written to the host');
  assert.ok(warnings(m.events).some((w) => /handlers not run because the host failed.*: h; kept on the host/.test(w)));
});

test('handlers: a host ended by meta end_host or end_batch does not run what it notified, nor keeps it (as Ansible)', async () => {
  for (const [meta, keywords] of [
    ['end_host', ''],
    ['end_batch', '  serial: 1\n'],
    ['end_host', '  force_handlers: true\n'],
  ] as const) {
    const m = await runMockPlaybook(
      withHandler(
        `    - { name: t, command: "true", notify: h }\n    - { meta: ${meta}, when: "inventory_hostname == 'h1'" }\n`,
        { hosts: 'all', keywords },
      ),
    );
    assert.deepEqual(resultLines(m.events), ['h1 t changed', 'h2 t changed', 'h2 h ok'], meta);
    assert.ok(!m.sent.some((c) => c.command.includes('pending-handlers') && c.command.includes('mv -f')), meta);
    assert.deepEqual(warnings(m.events), [], meta);
  }
});

test('handlers: meta end_play ends every host: no handler runs, none is kept; the next play runs (as Ansible)', async () => {
  const m = await runMockPlaybook(
    withHandler(
      '    - { name: t, command: "true", notify: h }\n    - meta: end_play\n    - { name: b, debug: msg=b }\n',
      {
        hosts: 'all',
      },
    ) + withHandler('    - { name: p2, debug: msg=n }\n', { hosts: 'all' }),
  );
  assert.deepEqual(resultLines(m.events), ['h1 t changed', 'h2 t changed', 'h1 p2 ok', 'h2 p2 ok']);
  assert.ok(!m.sent.some((c) => c.command.includes('pending-handlers') && c.command.includes('mv -f')));
  assert.deepEqual(warnings(m.events), []);
});

test('handlers: a run stopped by a signal after a notify starts no handler; it is kept on the host for the next run', async () => {
  const stopping: { signal?: string } = {};
  const m = await runMockPlaybook(
    withHandler('    - { name: t, command: "touch /tmp/x", notify: h }\n    - { name: b, debug: msg=b }\n'),
    'h1\n',
    {
      answer: (_h, command) => {
        if (command.includes('touch')) stopping.signal = 'SIGINT';
        return undefined;
      },
      before: (rs) => {
        rs.stopping = stopping;
      },
    },
  );
  assert.deepEqual(resultLines(m.events), ['h1 t changed'], 'neither b nor the handler started');
  const save = m.sent.find((c) => c.command.includes('pending-handlers') && c.command.includes('mv -f'));
  assert.equal(save?.opts.stdin, '["h"]');
});

test('handlers: force_handlers runs them on a host that failed', async () => {
  const m = await runMockPlaybook(withHandler(NOTIFY_THEN_FAIL, { keywords: '  force_handlers: true\n' }));
  assert.deepEqual(resultLines(m.events), ['h1 t changed', 'h1 boom failed', 'h1 h ok']);
});

test("handlers: pending handlers an earlier run left on a host run at this play's first flush (the end of pre_tasks, before tasks), with a warning; then the file is removed", async () => {
  const answer: Answer = (_h, command) =>
    command.includes('orch-probe') && command.includes('pending-handlers') ? { stdout: '["h"]' } : undefined;
  const m = await runMockPlaybook(
    `- hosts: h1
  gather_facts: false
  tasks:
    - { name: t, debug: msg=quiet }
  handlers:
    - { name: h, debug: msg=h }
    - { name: other, debug: msg=o }
`,
    'h1\n',
    { answer },
  );
  assert.deepEqual(resultLines(m.events), ['h1 h ok', 'h1 t ok']);
  assert.ok(
    warnings(m.events).some((w) => /notified by an earlier run that did not finish will run in this play: h$/.test(w)),
  );
  assert.ok(
    m.sent.some((c) => /^rm -f .*pending-handlers/.test(c.command)),
    'the kept names are cleared',
  );
});

test('handlers: check mode neither writes nor clears pending handlers on the host', async () => {
  // debug changes nothing in check mode or not: the notification is the same in both runs
  const yaml = withHandler(
    '    - { name: t, debug: msg=x, changed_when: true, notify: h }\n    - { name: boom, fail: msg=no }\n',
  );
  const writes = (m: { sent: { command: string }[] }) => m.sent.filter((c) => /mv -f|rm -f/.test(c.command)).length;
  assert.equal(writes(await runMockPlaybook(yaml)), 1, 'a run that is not in check mode keeps them');
  const m = await runMockPlaybook(yaml, 'h1\n', { run: { check: true } });
  assert.deepEqual(resultLines(m.events), ['h1 t changed', 'h1 boom failed']);
  assert.equal(writes(m), 0);
});

/** A play on h1 with vars svc=nginx, this task notifying `notify`, and these handlers (YAML list items). */
const templatedHandlers = (notify: string, handlers: string, keywords = '') =>
  `- hosts: h1\n  gather_facts: false\n  vars: { svc: nginx }\n${keywords}  tasks:\n    - { name: t, command: "true", notify: "${notify}" }\n  handlers:\n${handlers}`;

const runCollecting = async (yaml: string, inventory = 'h1\n', o: Parameters<typeof runMockPlaybook>[2] = {}) => {
  const events: RunEvent[] = [];
  const error = await runMockPlaybook(yaml, inventory, {
    ...o,
    before: (rs) => {
      const emit = rs.emit;
      rs.emit = (e) => {
        events.push(e);
        emit(e);
      };
    },
  }).then(
    () => undefined,
    (err: Error) => err,
  );
  return { events, error };
};

test('handlers: a handler name is templated with play vars, vars_files, extra vars and its own vars, as ansible-playbook 2.14', async () => {
  for (const [name, notify] of [
    ['restart {{ svc }}', 'restart nginx'],
    ['h {{ vf }}', 'h VF'],
    ['h {{ ev }}', 'h EV'],
    ['h {{ own }}', 'h OWN'],
    ['h {{ ansible_play_hosts | length }}', 'h 1'],
    ['h {{ svc }}', 'h {{ svc }}'],
  ] as const) {
    const m = await runMockPlaybook(
      templatedHandlers(
        notify,
        `    - { name: "${name}", vars: { own: OWN }, debug: msg=ran }\n`,
        '  vars_files: [vf.yml]\n',
      ),
      'h1\n',
      { files: { 'vf.yml': 'vf: VF\n' }, run: { extraVars: { ev: 'EV' } } },
    );
    assert.deepEqual(resultLines(m.events), ['h1 t changed', `h1 ${notify.replace('{{ svc }}', 'nginx')} ok`], name);
    assert.deepEqual(flushes(m.events), [[notify.replace('{{ svc }}', 'nginx')]], 'the flush shows the templated name');
    assert.deepEqual(warnings(m.events), [], name);
  }
});

test("handlers: a role's handler name is templated with the role's defaults and vars; 'role : name' reaches it too", async () => {
  for (const notify of ['rh RD RV', 'r1 : rh RD RV']) {
    const m = await runMockPlaybook(
      `- hosts: h1\n  gather_facts: false\n  roles: [r1]\n  tasks:\n    - { name: t, command: "true", notify: "${notify}" }\n`,
      'h1\n',
      {
        files: {
          'roles/r1/defaults/main.yml': 'rd: RD\n',
          'roles/r1/vars/main.yml': 'rv: RV\n',
          'roles/r1/handlers/main.yml': '- { name: "rh {{ rd }} {{ rv }}", debug: msg=ran }\n',
        },
      },
    );
    assert.deepEqual(resultLines(m.events), ['h1 t changed', 'h1 rh RD RV ok'], notify);
  }
});

test('handlers: a handler name using host variables (inventory, facts, set_fact) is unusable: a warning, and notifying it stops the run', async () => {
  for (const [name, notify, pre] of [
    ['h {{ hv }}', 'h HV', ''],
    ['h {{ inventory_hostname }}', 'h h1', ''],
    ['h {{ sf }}', 'h SF', '    - set_fact: { sf: SF }\n'],
  ] as const) {
    const yaml = templatedHandlers(notify, `    - { name: "${name}", debug: msg=ran }\n`).replace(
      '  tasks:\n',
      `  tasks:\n${pre}`,
    );
    const { events, error } = await runCollecting(yaml, 'h1 hv=HV\n');
    assert.match(String(error?.message), new RegExp(`The requested handler '${notify}' was not found`), name);
    assert.equal(warnings(events).length, 1, name);
    assert.match(
      warnings(events)[0] ?? '',
      /^Handler 'h \{\{ \w+ \}\}' is unusable because it has no listen topics and the name could not be templated \(host-specific variables are not supported in handler names\)\. The error: '\w+' is undefined/,
    );
  }
});

test('handlers: a handler whose name cannot be templated still answers its listen topics, without a warning', async () => {
  const m = await runMockPlaybook(
    templatedHandlers('topic', '    - { name: "h {{ nope }}", listen: topic, debug: msg=ran }\n'),
  );
  assert.deepEqual(resultLines(m.events), ['h1 t changed', 'h1 h {{ nope }} ok']);
  assert.deepEqual(warnings(m.events), []);
});

test('handlers: listen topics are not templated (as ansible-playbook 2.14): a templated notify does not reach them', async () => {
  const { error } = await runCollecting(
    templatedHandlers('t {{ svc }}', '    - { name: h, listen: "t {{ svc }}", debug: msg=ran }\n'),
  );
  assert.match(String(error?.message), /The requested handler 't nginx' was not found/);
});

test('handlers: two handlers of the play named alike once templated: the first runs, as Ansible finds it; listeners run too', async () => {
  const m = await runMockPlaybook(
    templatedHandlers(
      'h nginx',
      '    - { name: "h {{ svc }}", debug: msg=1 }\n    - { name: "h nginx", debug: msg=2 }\n    - { name: other, listen: "h nginx", debug: msg=3 }\n',
    ),
  );
  assert.deepEqual(flushes(m.events), [['h nginx', 'other']]);
  const ran = m.events.flatMap((e) => (e.type === 'host_result' && e.task !== 't' ? [e.msg] : []));
  assert.deepEqual(ran, ['1', '3']);
});

test('handlers: plan: a handler whose templated name a task of unknown outcome notifies is unknown, not a change', async () => {
  const m = await runMockPlaybook(
    templatedHandlers('restart nginx', '    - { name: "restart {{ svc }}", command: echo restart }\n').replace(
      '    - { name: t, command: "true",',
      '    - { name: token, command: echo token, register: r }\n    - { name: t, debug: "msg={{ r.stdout }}", changed_when: "r.stdout == \'x\'",',
    ),
    'h1\n',
    { run: { check: true, plan: true } },
  );
  const handler = m.events.find((e) => e.type === 'host_result' && e.task === 'restart nginx');
  assert.ok(handler?.type === 'host_result');
  assert.equal(handler.plan?.status, 'unknown');
  assert.match(handler.plan?.reason ?? '', /^notified by 't' \(.*\), whose outcome is unknown: depends on 'token'/);
});

test('handlers: a notify with an undefined variable fails the task on that host (changed or not) as Ansible; a skipped task does not template it', async () => {
  const m = await runMockPlaybook(
    withHandler(`    - { name: skipped, debug: msg=x, notify: "h {{ nope }}", when: false }
    - { name: unchanged, debug: msg=x, notify: "h {{ nope }}", ignore_errors: true }
    - { name: after, debug: msg=x }
`),
  );
  assert.deepEqual(resultLines(m.events), ['h1 skipped skipped', 'h1 unchanged failed', 'h1 after ok']);
  const failed = m.events.find((e) => e.type === 'host_result' && e.task === 'unchanged');
  assert.equal(
    failed?.type === 'host_result' && failed.msg,
    "The field 'notify' has an invalid value, which includes an undefined variable. The error was: 'nope' is undefined",
  );
});

test("handlers: in a loop, each item templates the notify with its item; a changed task notifies every item's names", async () => {
  const m = await runMockPlaybook(`- hosts: h1
  gather_facts: false
  tasks:
    - { name: t, command: "echo {{ item }}", changed_when: "item == 2", notify: "h {{ item }}", loop: [1, 2] }
  handlers:
    - { name: h 1, debug: msg=1 }
    - { name: h 2, debug: msg=2 }
`);
  assert.deepEqual(flushes(m.events), [['h 1', 'h 2']]);
});
