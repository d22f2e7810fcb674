import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apply, failures, HOSTS, onHost, results, writePlaybook } from '../helpers/lab.js';

// Every state module, every parameter of its spec in at least one combination: applied twice, the
// second run must report ok for each combination (changed=0). Each row is one task; its name is the
// combination, so a failure names it. Rows of one module share a playbook and never touch the same
// thing. Left out on purpose, as in Ansible (they report changed on every run): file state=touch,
// service state=restarted/reloaded, and anything that needs the network (apt update_cache).

const host = HOSTS[0] as string;
const B = '/srv/orch-idem';

/** `check`: a command run over plain ssh after the runs, and what it must print (the effect, not orch's report). */
const table: Record<string, { setup?: string; rows: string[]; check?: [string, string] }> = {
  file: {
    setup: `mkdir -p ${B}/file && echo x > ${B}/file/f1 && echo x > ${B}/file/f2 && echo x > ${B}/file/f3 && echo x > ${B}/file/f4 && echo x > ${B}/file/f5 && chmod 0664 ${B}/file/f2 ${B}/file/f3 ${B}/file/f4 && mkdir -p ${B}/file/tree/a/b`,
    rows: [
      `file: path=${B}/file/d1 state=directory`,
      `file: path=${B}/file/d2 state=directory mode=0750 owner=deploy group=deploy`,
      `file: path=${B}/file/d3 state=directory mode=u=rwX,g=rX,o=`,
      `file: path=${B}/file/d4 state=directory mode=o-rx`,
      `file: path=${B}/file/f1 state=file mode=u+x`,
      `file: path=${B}/file/f2 mode=g-w`,
      `file: path=${B}/file/f3 mode=a+r,u+w,o-w`,
      `file: path=${B}/file/f4 mode=u=rwX,g=rX,o=rX`,
      `file: path=${B}/file/f1 owner=deploy group=deploy`,
      `file: path=${B}/file/f5 owner=65534 group=65534`,
      `file: path=${B}/file/link src=${B}/file/d1 state=link`,
      `file: path=${B}/file/link2 src=${B}/file/f1 state=link force=yes follow=no`,
      `file: path=${B}/file/hard src=${B}/file/f2 state=hard`,
      `file: path=${B}/file/gone state=absent`,
      `file: path=${B}/file/tree state=directory recurse=yes owner=deploy group=deploy`,
    ],
    check: [
      `cd ${B}/file && stat -c '%n %a %U' f1 f2 f3 f4 f5 d3 d4 tree/a/b`,
      'f1 744 deploy\nf2 644 root\nf3 664 root\nf4 644 root\nf5 644 nobody\nd3 750 root\nd4 750 root\ntree/a/b 755 deploy\n',
    ],
  },
  copy: {
    rows: [
      `copy: dest=${B}/copy/plain content="a\\n"`,
      `copy: dest=${B}/copy/mode content="a\\n" mode=0600`,
      `copy: dest=${B}/copy/sym content="a\\n" mode=u=rw,g=r,o=`,
      `copy: dest=${B}/copy/symx content="#!/bin/sh\\n" mode=u+x`,
      `copy: dest=${B}/copy/own content="a\\n" owner=deploy group=deploy mode=0640`,
      `copy: dest=${B}/copy/backup content="a\\n" backup=yes`,
      `copy: dest=${B}/copy/numeric content="a\\n" owner=65534 group=65534`,
      `copy: dest=${B}/copy/noforce content="a\\n" force=no`,
      `copy: dest=${B}/copy/valid content="good\\n" validate="grep -q good %s"`,
      `copy: src=hello.txt dest=${B}/copy/`,
    ],
    check: [`cd ${B}/copy && stat -c '%n %a' sym symx && cat hello.txt`, 'sym 640\nsymx 744\nhello\n'],
  },
  template: {
    rows: [
      `template: src=t.j2 dest=${B}/template/t1`,
      `template: src=t.j2 dest=${B}/template/t2 mode=0640 owner=deploy group=deploy`,
      `template: src=t.j2 dest=${B}/template/t3 mode=g-r,o-r`,
      `template: src=t.j2 dest=${B}/template/t4 backup=yes force=yes trim_blocks=yes lstrip_blocks=no`,
      `template: src=t.j2 dest=${B}/template/t5 validate="test -s %s"`,
    ],
    check: [`stat -c '%a %U' ${B}/template/t2 ${B}/template/t3`, '640 deploy\n600 root\n'],
  },
  lineinfile: {
    setup: `mkdir -p ${B}/lineinfile && printf 'a=1\\n#port=80\\nz\\n' | tee ${B}/lineinfile/l1 ${B}/lineinfile/l2 ${B}/lineinfile/l3 ${B}/lineinfile/l4 ${B}/lineinfile/l5 ${B}/lineinfile/l6 ${B}/lineinfile/l7 ${B}/lineinfile/l8 >/dev/null`,
    rows: [
      `lineinfile: path=${B}/lineinfile/l1 line=b=2`,
      `lineinfile: path=${B}/lineinfile/l2 regexp=^a= line=a=9`,
      `lineinfile: path=${B}/lineinfile/l3 regexp=^#?port=(\\d+) line=port=\\1 backrefs=yes`,
      `lineinfile: path=${B}/lineinfile/l4 line=first insertbefore=BOF`,
      `lineinfile: path=${B}/lineinfile/l5 line=after-a insertafter=^a= firstmatch=yes`,
      `lineinfile: path=${B}/lineinfile/l6 search_string=z state=absent`,
      `lineinfile: path=${B}/lineinfile/l7 line=a=1 mode=0600 owner=deploy group=deploy`,
      `lineinfile: path=${B}/lineinfile/l8 line=a=1 mode=g+r`,
      `lineinfile: path=${B}/lineinfile/new line=x create=yes mode=0640 backup=yes`,
      `lineinfile: path=${B}/lineinfile/newsym line=x create=yes mode=u=rw,g=,o=`,
      `lineinfile: path=${B}/lineinfile/l6 line=checked validate="grep -q checked %s"`,
    ],
  },
  blockinfile: {
    setup: `mkdir -p ${B}/blockinfile && printf 'top\\nbottom\\n' | tee ${B}/blockinfile/b1 ${B}/blockinfile/b2 ${B}/blockinfile/b3 ${B}/blockinfile/b4 ${B}/blockinfile/b6 >/dev/null && printf 'x\\n# BEGIN ANSIBLE MANAGED BLOCK\\nold\\n# END ANSIBLE MANAGED BLOCK\\n' > ${B}/blockinfile/b5`,
    rows: [
      `blockinfile: path=${B}/blockinfile/b1 block="one\\ntwo"`,
      `blockinfile: path=${B}/blockinfile/b2 block=one insertbefore=BOF marker="; {mark} ORCH" marker_begin=START marker_end=STOP`,
      `blockinfile: path=${B}/blockinfile/b3 block=one insertafter=^top$`,
      `blockinfile: path=${B}/blockinfile/b4 block=one mode=0600 owner=deploy group=deploy`,
      `blockinfile: path=${B}/blockinfile/b6 block=one mode=g+r`,
      `blockinfile: path=${B}/blockinfile/b5 state=absent`,
      `blockinfile: path=${B}/blockinfile/new block=one create=yes mode=o-r backup=yes`,
      `blockinfile: path=${B}/blockinfile/b3 block=two marker="# {mark} SECOND" validate="grep -q two %s"`,
    ],
  },
  cron: {
    setup: 'rm -f /etc/cron.d/orch-idem; crontab -r -u deploy 2>/dev/null; true',
    rows: [
      'cron: name=c1 minute=5 hour=2 job=true cron_file=orch-idem user=root',
      'cron: name=c2 special_time=daily job=true cron_file=orch-idem user=root',
      'cron: name=c3 day=1 month=2 weekday=3 job=true disabled=yes cron_file=orch-idem user=root',
      'cron: name=c4 job=true user=deploy',
      'cron: name=PATH env=yes job=/usr/bin:/bin user=deploy',
      'cron: name=gone state=absent user=deploy',
      'cron: name=gone state=absent cron_file=orch-idem-none',
      'cron: name=c5 job=true user=deploy backup=no insertafter=PATH',
    ],
  },
  sysctl: {
    setup: 'rm -f /etc/sysctl.d/62-orch-idem.conf',
    rows: [
      'sysctl: name=net.core.somaxconn value=1024 sysctl_file=/etc/sysctl.d/62-orch-idem.conf',
      'sysctl: name=net.ipv4.tcp_fin_timeout value=33 sysctl_file=/etc/sysctl.d/62-orch-idem.conf sysctl_set=yes reload=yes',
      'sysctl: name=net.ipv4.ip_local_port_range value="20000   60000" sysctl_file=/etc/sysctl.d/62-orch-idem.conf',
      'sysctl: name=net.ipv4.tcp_syncookies value=1 sysctl_file=/etc/sysctl.d/62-orch-idem.conf reload=no ignoreerrors=yes',
      'sysctl: name=net.ipv4.tcp_keepalive_time state=absent sysctl_file=/etc/sysctl.d/62-orch-idem.conf',
    ],
  },
  mount: {
    setup: `umount /mnt/orch-idem1 /mnt/orch-idem2 2>/dev/null; sed -i "/orch-idem/d" /etc/fstab; true`,
    rows: [
      'mount: path=/mnt/orch-idem1 src=tmpfs fstype=tmpfs opts=size=8m,noatime state=mounted',
      'mount: path=/mnt/orch-idem2 src=tmpfs fstype=tmpfs state=present dump=0 passno=0 backup=yes',
      'mount: path="/mnt/orch idem3" src=tmpfs fstype=tmpfs state=present',
      'mount: path=/mnt/orch-idem4 state=absent',
      'mount: path=/mnt/orch-idem5 state=unmounted',
      'mount: path=/mnt/orch-idem6 src=tmpfs fstype=tmpfs state=present fstab=/etc/fstab',
    ],
  },
  group: {
    setup: 'groupdel orchidemg1 2>/dev/null; groupdel orchidemg2 2>/dev/null; true',
    rows: [
      'group: name=orchidemg1',
      'group: name=orchidemg2 gid=2401 system=yes',
      'group: name=orchidemgone state=absent',
    ],
  },
  user: {
    setup:
      'for u in orchidem1 orchidem2 orchidem3; do userdel -r $u 2>/dev/null; done; groupdel orchidemug 2>/dev/null; groupadd orchidemug; true',
    rows: [
      'user: name=orchidem1',
      // "secret" as a SHA-512 crypt hash
      "user: name=orchidem2 uid=2501 group=orchidemug groups=orchidemug,deploy append=yes shell=/bin/sh home=/home/orchidem2 comment='Idem Two' password=$6$saltsalt$3jEvf3Ecsb3VYqJvYl.7rAOKkZxvSxHJ5OrRTzbYQffyPLU2pK8qCx6zqM9/7SOJg05kp5z8N.jqTN5J3MbDw.",
      'user: name=orchidem3 system=yes create_home=no groups=orchidemug',
      'user: name=orchidemgone state=absent remove=yes',
    ],
  },
  apt: {
    rows: [
      'apt: name=jq state=present',
      'apt: name=jq,bash state=installed install_recommends=no',
      'apt: name=orch-no-such-package-x state=absent purge=yes autoremove=no',
      'apt: name=orch-no-such-package-y state=removed',
      'apt: name=jq state=latest cache_valid_time=0',
      'package: name=jq state=present use=auto',
    ],
  },
  service: {
    setup: 'service cron stop >/dev/null 2>&1; true',
    rows: [
      'service: name=cron state=started',
      'service: name=cron enabled=yes',
      'service: name=cron state=started enabled=yes pattern=cron',
    ],
  },
};

for (const [module, { setup, rows, check }] of Object.entries(table)) {
  test(`idempotency: ${module}: every combination (${rows.length}) reports ok on the second run`, () => {
    onHost(host, `rm -rf ${B}/${module}; mkdir -p ${B}/${module}; ${setup ?? 'true'}`);
    const tasks = rows.map((row) => `    - name: ${JSON.stringify(row)}\n      ${row}\n`).join('');
    const pb = writePlaybook(`- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n${tasks}`, {
      'files/hello.txt': 'hello\n',
      'templates/t.j2': 'name={{ inventory_hostname }}\n{% if true %}\nyes\n{% endif %}\n',
    });
    const first = apply(pb);
    assert.equal(first.code, 0, `first run failed:\n${failures(first)}\n${first.stderr}`);
    const second = apply(pb);
    assert.equal(second.code, 0, `second run failed:\n${failures(second)}`);
    const changed = results(second).filter((r) => r.status !== 'ok');
    assert.deepEqual(
      changed.map((r) => `${r.task}: ${r.status} ${r.msg ?? ''}`),
      [],
      'combinations not ok on the second run',
    );
    assert.equal(results(second).length, rows.length);
    if (check) assert.equal(onHost(host, check[0]).stdout, check[1], 'effect on the host');
  });
}

test("lineinfile/blockinfile: text already right, mode/owner/group wrong: fixed, changed, Ansible's message; then ok", () => {
  const d = `${B}/attrs`;
  onHost(
    host,
    `rm -rf ${d} && mkdir -p ${d} && printf 'a=1\\n' > ${d}/l && printf '# BEGIN ANSIBLE MANAGED BLOCK\\none\\n# END ANSIBLE MANAGED BLOCK\\n' > ${d}/b && chmod 0644 ${d}/l ${d}/b && chown root:root ${d}/l ${d}/b`,
  );
  const pb = writePlaybook(`- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:
    - lineinfile: path=${d}/l line=a=1 mode=0600 owner=deploy group=deploy
    - blockinfile: path=${d}/b block=one mode=u=rw,g=,o= owner=deploy
`);
  const first = apply(pb);
  assert.equal(first.code, 0, failures(first));
  assert.deepEqual(
    results(first).map((r) => [r.status, r.msg]),
    [
      ['changed', 'ownership, perms or SE linux context changed'],
      ['changed', 'ownership, perms or SE linux context changed'],
    ],
  );
  assert.equal(onHost(host, `stat -c '%a %U:%G' ${d}/l ${d}/b`).stdout, '600 deploy:deploy\n600 deploy:root\n');
  assert.equal(onHost(host, `cat ${d}/l`).stdout, 'a=1\n', 'text untouched');
  assert.deepEqual(
    results(apply(pb)).map((r) => r.status),
    ['ok', 'ok'],
  );
});
