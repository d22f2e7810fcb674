import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apply, applyTwiceConverges, HOSTS, onHost, results, writePlaybook } from '../helpers/lab.js';

const host = HOSTS[0] as string;
const base = '/srv/orch-files-test';

test('file, copy, template, lineinfile, blockinfile: effect, idempotence, check mode, diff', () => {
  onHost(host, `rm -rf ${base}`);
  const pb = writePlaybook(
    `
- hosts: ${host}
  become: yes
  gather_facts: no
  vars:
    app: shop
    workers: 3
  tasks:
    - file: path=${base}/conf state=directory mode=0750 owner=deploy
    - copy:
        dest: ${base}/conf/plain.txt
        content: "hello {{ app }}\\n"
        mode: "0640"
    - template: src=app.ini.j2 dest=${base}/conf/app.ini mode=0644
    - lineinfile: path=${base}/conf/lines.txt create=yes line="workers={{ workers }}" regexp="^workers="
    - blockinfile:
        path: ${base}/conf/block.txt
        create: yes
        block: |
          alpha
          beta
    - file: path=${base}/current src=${base}/conf state=link
    - stat: path=${base}/conf/plain.txt
      register: st
    - assert:
        that:
          - st.stat.exists
          - st.stat.mode == "0640"
          - st.stat.checksum | length == 40
    - slurp: src=${base}/conf/app.ini
      register: ini
    - assert:
        that: "'name = shop' in (ini.content | b64decode)"
`,
    {
      'templates/app.ini.j2':
        '[app]\nname = {{ app }}\nworkers = {{ workers }}\n{% for i in range(2) %}slot{{ i }}\n{% endfor %}',
    },
  );
  applyTwiceConverges(pb);
  // Independent checks with the system's ssh, not orch.
  assert.equal(onHost(host, `cat ${base}/conf/plain.txt`).stdout, 'hello shop\n');
  assert.equal(onHost(host, `cat ${base}/conf/lines.txt`).stdout, 'workers=3\n');
  assert.equal(
    onHost(host, `stat -c '%a %U' ${base}/conf ${base}/conf/plain.txt ${base}/conf/app.ini`).stdout,
    '750 deploy\n640 root\n644 root\n',
  );
  assert.equal(onHost(host, `cat ${base}/conf/app.ini`).stdout, '[app]\nname = shop\nworkers = 3\nslot0\nslot1\n');
  assert.equal(
    onHost(host, `cat ${base}/conf/block.txt`).stdout,
    '# BEGIN ANSIBLE MANAGED BLOCK\nalpha\nbeta\n# END ANSIBLE MANAGED BLOCK\n',
  );
  assert.equal(onHost(host, `readlink ${base}/current`).stdout.trim(), `${base}/conf`);
  assert.equal(onHost(host, `ls -a ${base}/conf | grep -c orch-tmp || true`).stdout.trim(), '0', 'no temp files left');

  // A change seen in check mode with --diff is reported but not made.
  const check = apply(pb, ['--check', '--diff', '-e', 'workers=5']);
  assert.equal(check.code, 0);
  const line = results(check).find((r) => r.module === 'lineinfile');
  assert.equal(line?.status, 'changed');
  assert.match(line?.diff?.[0]?.after ?? '', /workers=5/);
  const tmpl = results(check).find((r) => r.module === 'template');
  assert.equal(tmpl?.status, 'changed');
  assert.equal(onHost(host, `cat ${base}/conf/lines.txt`).stdout, 'workers=3\n', 'check mode changed nothing');
});

test('copy keeps the original intact when validation fails', () => {
  onHost(host, `mkdir -p ${base} && printf 'good\\n' > ${base}/validated`);
  const pb = writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - copy: dest=${base}/validated content="bad" validate="grep -q good %s"
`);
  const r = apply(pb);
  assert.equal(r.code, 2);
  assert.equal(results(r)[0]?.msg, 'failed to validate');
  assert.equal(onHost(host, `cat ${base}/validated`).stdout, 'good\n');
  assert.equal(onHost(host, `ls -a ${base} | grep -c orch-tmp || true`).stdout.trim(), '0');
});

test('validate runs without a shell, as Ansible: a ; in it is an argument, nothing after it runs', () => {
  onHost(host, `mkdir -p ${base} && rm -f ${base}/injected`);
  const pb = writePlaybook(`
- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - copy: dest=${base}/unshelled content="x" validate="test -s %s ; touch ${base}/injected"
      ignore_errors: yes
      register: r
    - lineinfile: path=${base}/unshelled line=y create=yes validate="false %s"
      ignore_errors: yes
      register: l
    - assert:
        that:
          - r.msg == 'failed to validate'
          - r.exit_status == 2
          - "'extra argument' in r.stderr"
          - "l.msg == 'failed to validate: rc:1 error:'"
`);
  const r = apply(pb);
  assert.equal(r.code, 0, r.stdout);
  assert.equal(onHost(host, `test -e ${base}/injected && echo yes || echo no`).stdout.trim(), 'no');
  assert.equal(onHost(host, `test -e ${base}/unshelled && echo yes || echo no`).stdout.trim(), 'no');
});
