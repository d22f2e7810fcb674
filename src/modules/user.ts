import { sh } from '../transport/quote.js';
import { perlString } from './probe.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, type ModuleContext } from './types.js';
import { accountName } from './validate.js';

interface Account {
  exists: boolean;
  uid?: number;
  gid?: number;
  group?: string;
  groups: string[];
  home?: string;
  shell?: string;
  comment?: string;
  password?: string;
  /** generate_ssh_key: the key file and its public half, if it exists */
  sshKey?: { path: string; exists: boolean; pub?: string };
}

/** The key file generate_ssh_key makes: ssh_key_file, relative to the home directory (default .ssh/id_TYPE). */
function keyFile(p: Params): string {
  return String(p.ssh_key_file ?? `.ssh/id_${String(p.ssh_key_type ?? 'rsa')}`);
}

async function queryUser(ctx: ModuleContext, p: Params): Promise<Account> {
  const n = accountName('user', 'name', p.name);
  // as `getent passwd`, then G|primary group|primary, then every group listing the user, P|password hash (root only,
  // as getent shadow)
  const probe = [
    `my $n = ${perlString(n)}; my @u = getpwnam($n);`,
    'if (@u) { print join(":", $u[0], "x", $u[2], $u[3], $u[6], $u[7], $u[8]), "\\n";',
    '  my $pg = scalar(getgrgid($u[3])) // $u[3]; my @g = ($pg);',
    '  setgrent(); while (my @e = getgrent()) { push @g, $e[0] if grep { $_ eq $n } split / /, $e[3]; } endgrent();',
    '  print "G|$pg|", join(" ", @g), "\\n", "P|", ($> == 0 ? $u[1] : ""), "\\n"; }',
  ];
  if (p.generate_ssh_key === true) {
    const home = perlString(String(p.home ?? `/home/${n}`));
    probe.push(
      `my $k = ${perlString(keyFile(p))}; $k = ((@u ? $u[7] : ${home}) . "/" . $k) unless $k =~ m{^/};`,
      'print "K|$k|", (-e $k ? 1 : 0), "\\n"; if (open(my $f, "<", "$k.pub")) { my $l = <$f> // ""; close $f; print "Q|$l"; }',
    );
  }
  const r = await ctx.probe(probe.join('\n'));
  const key = /^K\|(.*)\|([01])$/m.exec(r.stdout);
  const sshKey = key
    ? { path: key[1] ?? '', exists: key[2] === '1', pub: /^Q\|(.*)$/m.exec(r.stdout)?.[1] }
    : undefined;
  const pw = r.stdout.split('\n')[0]?.split(':');
  if (!pw || pw.length < 7 || pw[0]?.startsWith('K|')) return { exists: false, groups: [], sshKey };
  const g = /^G\|(.*)\|(.*)$/m.exec(r.stdout);
  return {
    exists: true,
    uid: Number(pw[2]),
    gid: Number(pw[3]),
    comment: pw[4],
    home: pw[5],
    shell: pw[6],
    group: g?.[1],
    // after the primary group: the groups that list the user as a member (the primary too, when it does), as Ansible
    // compares
    groups: (g?.[2] ?? '')
      .split(' ')
      .slice(1)
      .filter((x) => x),
    password: /^P\|(.*)$/m.exec(r.stdout)?.[1],
    sshKey,
  };
}

/** ssh-keygen as Ansible runs it for generate_ssh_key, the ~/.ssh directory made first, the files given to the user. */
function keygenCommand(p: Params, n: string, path: string): string {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  const bits = Number(p.ssh_key_bits ?? 0) > 0 ? ['-b', String(p.ssh_key_bits)] : [];
  // Ansible's default comment names the host: the one part left for the shell to expand
  const comment =
    p.ssh_key_comment !== undefined ? sh`${String(p.ssh_key_comment)}` : '"ansible-generated on $(hostname)"';
  const keygen = `${sh`ssh-keygen -q -t ${String(p.ssh_key_type ?? 'rsa')} ${bits} -N ${String(p.ssh_key_passphrase ?? '')} -f ${path}`} -C ${comment}`;
  const gid = `"$(id -g -- ${sh`${n}`})"`;
  return `{ [ -d ${sh`${dir}`} ] || install -d -m 0700 -o ${sh`${n}`} -g ${gid} -- ${sh`${dir}`}; } && ${keygen} && chown -- ${sh`${n}`}:${gid} ${sh`${path}`} ${sh`${path}.pub`}`;
}

export function planUser(p: Params, a: Account): { changes: string; result: Record<string, unknown> } | null {
  const n = accountName('user', 'name', p.name);
  if (p.state === 'absent')
    return a.exists ? { changes: sh`userdel ${p.remove ? ['-r'] : []} -- ${n}`, result: {} } : null;
  const wantGroups = Array.isArray(p.groups) ? p.groups.map((g) => accountName('user', 'groups', g)) : [];
  if (p.group !== undefined) accountName('user', 'group', p.group);
  const opts: string[] = [];
  if (p.uid !== undefined && a.uid !== p.uid) opts.push(sh`-u ${String(p.uid)}`);
  if (p.group !== undefined && a.group !== p.group) opts.push(sh`-g ${String(p.group)}`);
  if (p.shell !== undefined && a.shell !== p.shell) opts.push(sh`-s ${String(p.shell)}`);
  if (p.home !== undefined && a.home !== p.home) opts.push(sh`-d ${String(p.home)}`);
  if (p.comment !== undefined && a.comment !== p.comment) opts.push(sh`-c ${String(p.comment)}`);
  if (p.password !== undefined && a.password !== p.password && (p.update_password !== 'on_create' || !a.exists))
    opts.push(sh`-p ${String(p.password)}`);
  if (p.groups !== undefined) {
    const missing = wantGroups.filter((g) => !a.groups.includes(g));
    const extra = a.groups.filter((g) => !wantGroups.includes(g));
    // useradd has no -a: a new account gets the whole list
    if (!a.exists) {
      if (wantGroups.length > 0) opts.push(sh`-G ${wantGroups.join(',')}`);
    } else if (missing.length > 0 || (!p.append && extra.length > 0))
      opts.push(sh`${p.append ? ['-a'] : []} -G ${(p.append ? missing : wantGroups).join(',')}`);
  }
  const keygen =
    p.generate_ssh_key === true && a.sshKey && !a.sshKey.exists ? ` && ${keygenCommand(p, n, a.sshKey.path)}` : '';
  if (!a.exists) {
    const create = [p.system ? '-r' : '', p.create_home === false ? '-M' : '-m'].filter((x) => x).join(' ');
    return {
      changes: `useradd ${create} ${opts.join(' ')} -- ${sh`${n}`}${keygen}`,
      result: { diff: [{ path: n, header: 'user', before: 'absent', after: 'present' }] },
    };
  }
  if (opts.length === 0) return keygen ? { changes: keygen.slice(4), result: {} } : null;
  return {
    changes: `usermod ${opts.join(' ')} -- ${sh`${n}`}${keygen}`,
    result: { diff: [{ path: n, header: 'user', before: 'present', after: 'modified' }] },
  };
}

export const user = defineStateModule<Account, string>({
  name: 'user',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true, aliases: ['user'] },
      state: { type: 'str', support: 'full', default: 'present', choices: ['present', 'absent'] },
      uid: { type: 'int', support: 'full' },
      group: { type: 'str', support: 'full' },
      groups: { type: 'list', support: 'full', elements: 'str' },
      append: { type: 'bool', support: 'full', default: false },
      shell: { type: 'str', support: 'full' },
      home: { type: 'path', support: 'full' },
      comment: { type: 'str', support: 'full' },
      password: { type: 'str', support: 'full', noLog: true },
      system: { type: 'bool', support: 'full', default: false },
      create_home: { type: 'bool', support: 'full', default: true, aliases: ['createhome'] },
      remove: { type: 'bool', support: 'full', default: false },
      update_password: { type: 'str', support: 'full', default: 'always', choices: ['always', 'on_create'] },
      generate_ssh_key: { type: 'bool', support: 'full', default: false },
      ssh_key_type: { type: 'str', support: 'full', default: 'rsa' },
      ssh_key_bits: { type: 'int', support: 'full', default: 0 },
      ssh_key_file: { type: 'path', support: 'full' },
      ssh_key_comment: { type: 'str', support: 'full' },
      ssh_key_passphrase: { type: 'str', support: 'full', noLog: true },
    },
  },
  query: queryUser,
  plan: planUser,
  describe: (p, a) => ({
    name: p.name,
    uid: a.uid,
    home: a.home,
    state: p.state,
    ...(a.sshKey
      ? { ssh_key_file: a.sshKey.path, ...(a.sshKey.pub ? { ssh_public_key: a.sshKey.pub.trim() } : {}) }
      : {}),
  }),
  async apply(ctx, p, cmd, a) {
    const r = await ctx.run(cmd);
    if (r.rc !== 0) throw commandFailed('user', r);
    if (p.generate_ssh_key !== true || !a.sshKey) return;
    const k = await ctx.run(sh`ssh-keygen -l -f ${`${a.sshKey.path}.pub`} && cat -- ${`${a.sshKey.path}.pub`}`);
    const [fingerprint = '', pub = ''] = k.stdout.split('\n');
    return { changed: true, ssh_fingerprint: fingerprint, ssh_public_key: pub, ssh_key_file: a.sshKey.path };
  },
});

export const group = defineStateModule<{ exists: boolean; gid?: number }, string>({
  name: 'group',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true },
      state: { type: 'str', support: 'full', default: 'present', choices: ['present', 'absent'] },
      gid: { type: 'int', support: 'full' },
      system: { type: 'bool', support: 'full', default: false },
    },
  },
  async query(ctx, p) {
    const r = await ctx.probe(
      `my @g = getgrnam(${perlString(accountName('group', 'name', p.name))}); print join(":", $g[0], "x", $g[2], join(",", split / /, $g[3])), "\\n" if @g;`,
    );
    const f = r.stdout.trim().split(':');
    return f.length >= 3 ? { exists: true, gid: Number(f[2]) } : { exists: false };
  },
  plan(p, g) {
    const n = accountName('group', 'name', p.name);
    if (p.state === 'absent') return g.exists ? { changes: sh`groupdel -- ${n}` } : null;
    if (!g.exists)
      return {
        changes: `groupadd ${p.system ? '-r ' : ''}${p.gid !== undefined ? sh`-g ${String(p.gid)} ` : ''}-- ${sh`${n}`}`,
      };
    if (p.gid !== undefined && g.gid !== p.gid) return { changes: sh`groupmod -g ${String(p.gid)} -- ${n}` };
    return null;
  },
  describe: (p, g) => ({ name: p.name, gid: g.gid }),
  async apply(ctx, _p, cmd) {
    const r = await ctx.run(cmd);
    if (r.rc !== 0) throw commandFailed('group', r);
  },
});
