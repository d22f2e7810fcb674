import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyTwiceConverges, HOSTS, onHost, writePlaybook } from '../helpers/lab.js';

// ini_file, pam_limits, authorized_key, known_hosts, locale_gen, timezone, alternatives, debconf applied
// by orch on a lab host, twice; the effects checked over plain ssh. The sha1 of each written file is the
// one ansible-playbook 2.14 (community.general 6.6, ansible.posix 1.5) left running the same tasks on a
// fresh lab host: the files are byte-identical to Ansible's.
const host = HOSTS[1] as string;

const TASKS = `
    - file: path=/etc/orch-sys state=directory
    - copy: dest=/etc/orch-sys/limits.conf content="# l\\n* soft core 0\\n" force=no
    - copy: dest=/etc/orch-sys/app.ini content="; app\\nobsolete=1\\n[main]\\nport=80\\n" force=no
    - ini_file: path=/etc/orch-sys/app.ini section={{ item.s }} option={{ item.o }} value={{ item.v }}
      loop:
        - { s: main, o: port, v: "8080" }
        - { s: main, o: host, v: "0.0.0.0" }
        - { s: log, o: level, v: debug }
    - ini_file: path=/etc/orch-sys/app.ini section=main option=obsolete state=absent
    - pam_limits: dest=/etc/orch-sys/limits.conf domain={{ item.d }} limit_type={{ item.t }} limit_item={{ item.i }} value={{ item.v }}
      loop:
        - { d: "*", t: soft, i: core, v: unlimited }
        - { d: "@app", t: hard, i: nofile, v: "65536" }
    - user: name=orchsys
    - authorized_key: user=orchsys key="{{ item }}"
      loop:
        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMRwXfVJkdMR/O8jvR+tiyIHOX3aEPPFu4J2PYdblVh/ one@x
        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIeu0PjAFQPcUk1It8XMRQ9mNgBJewKIvCZHFYtxslXm
    - known_hosts: path=/etc/orch-sys/known_hosts name=git.example key="git.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAXxJ0Z5kUWUB95sWGNEtUcUGeEoBr8FLa7buaIqWK/o"
    - locale_gen: name=de_DE.UTF-8
    - timezone: name=Asia/Tokyo
    - alternatives: name=orchsys link=/usr/local/bin/orchsys path=/bin/true priority=5
    - debconf: name=locales question=locales/default_environment_locale vtype=select value=de_DE.UTF-8
`;

test("system modules: converge in two runs, files byte-identical to Ansible's, effects seen over ssh", () => {
  onHost(host, 'rm -rf /etc/orch-sys /home/orchsys/.ssh; update-alternatives --remove-all orchsys 2>/dev/null; true');
  applyTwiceConverges(writePlaybook(`- hosts: ${host}\n  become: yes\n  gather_facts: no\n  tasks:\n${TASKS}`));
  const sums = onHost(
    host,
    'sha1sum /etc/orch-sys/app.ini /etc/orch-sys/limits.conf /home/orchsys/.ssh/authorized_keys /etc/orch-sys/known_hosts',
  ).stdout;
  assert.deepEqual(
    sums
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]),
    [
      '9e61c2a3a0c1b78db634d4200a62cdf683313d26',
      '8fcb68f5263914e7b3737ab045027e42e1034aa3',
      '12ac68ce4ec4c5a51972e5d05a6bda07ba04d6bf',
      'ffd2f007acb8f616eb776c2bb040d5076a82eb92',
    ],
    sums,
  );
  assert.equal(
    onHost(host, 'stat -c "%a %U %G" /home/orchsys/.ssh /home/orchsys/.ssh/authorized_keys').stdout,
    '700 orchsys orchsys\n600 orchsys orchsys\n',
  );
  assert.match(onHost(host, 'locale -a').stdout, /^de_DE\.utf8$/m);
  assert.equal(
    onHost(host, 'cat /etc/timezone; readlink /etc/localtime').stdout,
    'Asia/Tokyo\n/usr/share/zoneinfo/Asia/Tokyo\n',
  );
  assert.match(onHost(host, 'update-alternatives --query orchsys').stdout, /^Value: \/bin\/true$/m);
  assert.match(onHost(host, 'debconf-show locales').stdout, /locales\/default_environment_locale: de_DE\.UTF-8/);
  assert.match(
    onHost(host, 'ssh-keygen -F git.example -f /etc/orch-sys/known_hosts').stdout,
    /^git\.example ssh-ed25519 /m,
  );
});

test('mount and cron write through a symlinked file to its target, sysctl replaces the link: as ansible-playbook 2.14 does', () => {
  onHost(
    host,
    [
      'rm -rf /etc/orch-links /srv/orch-links; mkdir -p /etc/orch-links /srv/orch-links',
      'printf "# real sysctl\\n" > /srv/orch-links/sysctl.conf; ln -s /srv/orch-links/sysctl.conf /etc/orch-links/sysctl.conf',
      'printf "# real fstab\\n" > /srv/orch-links/fstab; ln -s /srv/orch-links/fstab /etc/orch-links/fstab',
      'printf "# real cron\\n" > /srv/orch-links/cron; ln -sf /srv/orch-links/cron /etc/cron.d/orch-link',
    ].join('; '),
  );
  applyTwiceConverges(
    writePlaybook(`- hosts: ${host}
  become: yes
  gather_facts: no
  tasks:
    - sysctl: name=net.ipv4.tcp_fin_timeout value=21 sysctl_file=/etc/orch-links/sysctl.conf reload=no
    - mount: path=/mnt/orch-link src=tmpfs fstype=tmpfs state=present fstab=/etc/orch-links/fstab
    - cron: name=linked cron_file=orch-link user=root job=/bin/true minute=5
`),
  );
  const kinds = onHost(
    host,
    'stat -c %F /etc/orch-links/sysctl.conf /etc/orch-links/fstab /etc/cron.d/orch-link',
  ).stdout;
  assert.equal(kinds, 'regular file\nsymbolic link\nsymbolic link\n');
  assert.equal(
    onHost(host, 'cat /srv/orch-links/sysctl.conf').stdout,
    '# real sysctl\n',
    'the link target is left alone',
  );
  assert.match(
    onHost(host, 'cat /etc/orch-links/sysctl.conf').stdout,
    /# real sysctl\nnet\.ipv4\.tcp_fin_timeout ?= ?21\n/,
  );
  const real = onHost(host, 'cat /srv/orch-links/fstab /srv/orch-links/cron').stdout;
  assert.match(real, /# real fstab\ntmpfs \/mnt\/orch-link tmpfs defaults 0 0\n/);
  assert.match(real, /# real cron\n#Ansible: linked\n5 \* \* \* \* root \/bin\/true\n/);
  onHost(host, 'rm -f /etc/cron.d/orch-link');
});
