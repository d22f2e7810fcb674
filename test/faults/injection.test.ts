import assert from 'node:assert/strict';
import { fault } from '../helpers/faults.js';
import { apply, HOSTS, onHost, results, writePlaybook } from '../helpers/lab.js';

// Values that try to become code: each attack is tried through orch on a lab host, and the effect is
// checked over plain ssh: no marker file (/tmp/pwned-*), no extra line in the file the module edits,
// and where the value is invalid the task fails saying why.

const host = HOSTS[0] as string;

function play(tasks: string, vars = ''): string {
  return writePlaybook(`- hosts: ${host}\n  become: yes\n  gather_facts: no\n${vars}  tasks:\n${tasks}`);
}

function noMarker(name: string): void {
  assert.equal(
    onHost(host, `ls /tmp/${name} 2>/dev/null || echo none`).stdout.trim(),
    'none',
    `/tmp/${name} was created`,
  );
}

/** Apply; the one task must fail with `msg`. Returns the message. */
function failsWith(pb: string, msg: RegExp): string {
  const r = apply(pb);
  const res = results(r);
  assert.equal(res[0]?.status, 'failed', `task should fail, got ${res[0]?.status}: ${res[0]?.msg ?? r.stderr}`);
  assert.match(res[0]?.msg ?? '', msg);
  return res[0]?.msg ?? '';
}

fault('environment key with shell code', 'task fails ("not a valid variable name"); the code never runs', () => {
  onHost(host, 'rm -f /tmp/pwned-env');
  const msg = failsWith(
    play(`    - command: "true"
      environment:
        "A=1;touch /tmp/pwned-env;B": x
`),
    /is not a valid variable name/,
  );
  noMarker('pwned-env');
  return msg;
});

fault(
  'apt package name that is an apt option (Pre-Invoke hook)',
  'task fails ("not a valid package name"); the hook never runs as root, nothing installed',
  () => {
    // python3-all: not installed, its .deb in the offline cache, so apt-get would really call dpkg (and the hook)
    onHost(host, 'rm -f /tmp/pwned-apt');
    const msg = failsWith(
      play('    - apt:\n        name: [python3-all, "-oDPkg::Pre-Invoke::=touch /tmp/pwned-apt"]\n'),
      /is not a valid package name/,
    );
    noMarker('pwned-apt');
    assert.notEqual(
      onHost(host, 'dpkg-query -W -f "\\${Status}" python3-all 2>/dev/null; true').stdout,
      'install ok installed',
    );
    return msg;
  },
);

fault(
  'name=--help for apt, user and group',
  'each task fails with a clear message (not "changed" with nothing done)',
  () => {
    const out: string[] = [];
    out.push(failsWith(play('    - apt: name=--help\n'), /is not a valid package name/));
    out.push(failsWith(play('    - user: name=--help\n'), /is not a valid user or group name/));
    out.push(failsWith(play('    - group: name=--help\n'), /is not a valid user or group name/));
    assert.equal(
      onHost(host, 'grep -c -- "^--help:" /etc/passwd /etc/group | grep -vc ":0$" || true').stdout.trim(),
      '0',
    );
    return out.join(' / ');
  },
);

fault(
  'newline in a cron name (cron.d file and root crontab)',
  'task fails ("control characters"); no line added to /etc/cron.d or the crontab',
  () => {
    onHost(host, 'rm -f /etc/cron.d/orch-inj; crontab -r -u root 2>/dev/null; true');
    const evil = '"x\\n* * * * * root touch /tmp/pwned-cron"';
    const msg = failsWith(
      play(`    - cron: { name: ${evil}, job: "true", cron_file: orch-inj }\n`),
      /must not contain control characters/,
    );
    failsWith(play(`    - cron: { name: ${evil}, job: "true" }\n`), /must not contain control characters/);
    assert.equal(onHost(host, 'cat /etc/cron.d/orch-inj 2>/dev/null; crontab -l -u root 2>/dev/null; true').stdout, '');
    return msg;
  },
);

fault('newline in a sysctl name', 'task fails ("not a valid sysctl key"); the sysctl file gets no line', () => {
  onHost(host, 'rm -f /etc/sysctl.d/61-orch-inj.conf');
  const msg = failsWith(
    play(
      '    - sysctl: { name: "net.core.somaxconn\\nkernel.core_pattern", value: "|/tmp/pwned", sysctl_file: /etc/sysctl.d/61-orch-inj.conf, reload: no }\n',
    ),
    /is not a valid sysctl key/,
  );
  assert.equal(onHost(host, 'cat /etc/sysctl.d/61-orch-inj.conf 2>/dev/null; true').stdout, '');
  return msg;
});

fault(
  'newline in a mount path; a space in a mount path',
  'newline: task fails, fstab unchanged; space: written as \\040 (as Ansible), second run ok',
  () => {
    const before = onHost(host, 'cat /etc/fstab').stdout;
    const msg = failsWith(
      play(
        '    - mount: { path: "/mnt/x\\ntmpfs /etc tmpfs defaults 0 0\\n#", src: tmpfs, fstype: tmpfs, state: present }\n',
      ),
      /must not contain control characters/,
    );
    assert.equal(onHost(host, 'cat /etc/fstab').stdout, before);
    const pb = play('    - mount: { path: "/mnt/orch inj", src: tmpfs, fstype: tmpfs, state: present }\n');
    assert.equal(apply(pb).code, 0);
    const second = apply(pb);
    assert.equal(results(second)[0]?.status, 'ok', 'second run reports ok');
    assert.equal(
      onHost(host, 'grep -c "/mnt/orch.040inj" /etc/fstab').stdout.trim(),
      '1',
      'one entry, not one per run',
    );
    assert.match(onHost(host, 'cat /etc/fstab').stdout, /^tmpfs \/mnt\/orch\\040inj tmpfs defaults 0 0$/m);
    assert.equal(
      onHost(host, 'findmnt --fstab -n -o TARGET /mnt/orch\\ inj').stdout.trim(),
      '/mnt/orch inj',
      'util-linux reads the escaped path back',
    );
    onHost(host, "sed -i '/orch\\\\040inj/d' /etc/fstab");
    return `${msg}; space written as \\040, idempotent`;
  },
);

fault(
  'wait_for host with shell code',
  'task fails ("host must be a host name or an IP address"); the code never runs',
  () => {
    onHost(host, 'rm -f /tmp/pwned-wait');
    const msg = failsWith(
      play('    - wait_for: { host: "127.0.0.1/22; touch /tmp/pwned-wait; #", port: 22, timeout: 2 }\n'),
      /host must be a host name or an IP address/,
    );
    noMarker('pwned-wait');
    return msg;
  },
);

fault(
  'file state=link with a planted <path>.orch-tmp directory',
  'the link is made (temp name from mktemp); the planted directory does not take its place',
  () => {
    onHost(
      host,
      'rm -rf /srv/inj && mkdir -p /srv/inj/rel /srv/inj/current.orch-tmp && touch /srv/inj/current.orch-tmp/planted && chown -R deploy /srv/inj/current.orch-tmp',
    );
    const r = apply(play('    - file: { path: /srv/inj/current, src: /srv/inj/rel, state: link }\n'));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(onHost(host, 'readlink /srv/inj/current || echo not-a-link').stdout.trim(), '/srv/inj/rel');
    assert.equal(onHost(host, 'ls -a /srv/inj | grep -c "^\\.orch-tmp" || true').stdout.trim(), '0', 'no temp left');
    return 'current -> /srv/inj/rel; planted directory left aside; no temp left';
  },
);

fault(
  'owner that is a chown option (--reference=/etc/shadow)',
  'task fails (chown: invalid user); the file keeps its owner and group',
  () => {
    onHost(host, 'mkdir -p /srv/inj && echo x > /srv/inj/f && chown deploy:deploy /srv/inj/f');
    const r = apply(play('    - file: { path: /srv/inj/f, owner: "--reference=/etc/shadow" }\n'));
    assert.equal(results(r)[0]?.status, 'failed');
    assert.match(results(r)[0]?.msg ?? '', /invalid user/);
    assert.equal(onHost(host, 'stat -c %U:%G /srv/inj/f').stdout.trim(), 'deploy:deploy');
    return results(r)[0]?.msg ?? '';
  },
);

fault(
  'service name with a path (../../tmp/evil)',
  'task fails ("not a valid service name"); the script outside /etc/init.d never runs',
  () => {
    onHost(
      host,
      'rm -f /tmp/pwned-svc; printf "#!/bin/sh\\ntouch /tmp/pwned-svc\\n" > /tmp/evil-svc; chmod 755 /tmp/evil-svc',
    );
    const msg = failsWith(
      play('    - service: name=../../tmp/evil-svc state=started\n'),
      /is not a valid service name/,
    );
    noMarker('pwned-svc');
    onHost(host, 'rm -f /tmp/evil-svc');
    return msg;
  },
);
