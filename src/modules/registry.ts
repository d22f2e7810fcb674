import { apt, packageModule } from './apt.js';
import { blockinfile } from './blockinfile.js';
import { command, raw, shell } from './command.js';
import { assertModule, connectionCheck, debug, fail, includeVars, meta, pause, setFact } from './control.js';
import { copy } from './copy.js';
import { cron } from './cron.js';
import { file } from './file.js';
import { haproxy } from './haproxy.js';
import { lineinfile } from './lineinfile.js';
import { mount } from './mount.js';
import { postgresqlDb, postgresqlUser } from './postgresql.js';
import { service, systemdModule } from './service.js';
import { slurp } from './slurp.js';
import { asyncStatus } from './async-status.js';
import { stat } from './stat.js';
import { sysctl } from './sysctl.js';
import { template } from './template.js';
import { tempfile } from './tempfile.js';
import type { Module } from './types.js';
import { uri } from './uri.js';
import { group, user } from './user.js';
import { waitFor } from './wait-for.js';
import { find } from './find.js';
import { getent } from './getent.js';
import { packageFacts } from './package-facts.js';
import { opensshKeypair } from './openssh-keypair.js';
import { pamd } from './pamd.js';
import { ping } from './ping.js';
import { replace } from './replace.js';
import { serviceFacts } from './service-facts.js';
import { setup } from './setup.js';
import { iniFile } from './ini-file.js';
import { pamLimits } from './pam-limits.js';
import { authorizedKey } from './authorized-key.js';
import { localeGen } from './locale-gen.js';
import { debconf } from './debconf.js';
import { timezone } from './timezone.js';
import { hostname } from './hostname.js';
import { modprobe } from './modprobe.js';
import { alternatives } from './alternatives.js';
import { aptRepository } from './apt-repository.js';
import { aptKeyModule } from './apt-key.js';
import { iptables } from './iptables.js';
import { ufw } from './ufw.js';
import { knownHosts } from './known-hosts.js';
import { getUrl } from './get-url.js';
import { fetch } from './fetch.js';
import { unarchive } from './unarchive.js';
import { git } from './git.js';
import { addHost, groupBy } from './add-host.js';
import { reboot, waitForConnection } from './reboot.js';
import { validateArgumentSpecModule } from './validate-argument-spec.js';

const all: Module[] = [
  command,
  shell,
  raw,
  file,
  copy,
  template,
  lineinfile,
  blockinfile,
  stat,
  slurp,
  asyncStatus,
  sysctl,
  mount,
  cron,
  apt,
  packageModule,
  service,
  systemdModule,
  user,
  group,
  waitFor,
  uri,
  debug,
  assertModule,
  fail,
  setFact,
  includeVars,
  meta,
  pause,
  connectionCheck,
  postgresqlDb,
  postgresqlUser,
  haproxy,
  tempfile,
  opensshKeypair,
  pamd,
  find,
  getent,
  packageFacts,
  ping,
  replace,
  serviceFacts,
  setup,
  iniFile,
  pamLimits,
  authorizedKey,
  localeGen,
  debconf,
  timezone,
  hostname,
  modprobe,
  alternatives,
  knownHosts,
  getUrl,
  fetch,
  unarchive,
  git,
  aptRepository,
  aptKeyModule,
  iptables,
  ufw,
  addHost,
  groupBy,
  waitForConnection,
  reboot,
  validateArgumentSpecModule,
];

export const modules = new Map<string, Module>(all.map((m) => [m.name, m]));

/** Collections whose names map onto orch's modules (FQCN accepted: ansible.builtin.copy → copy). */
const ALIASES: Record<string, string> = {
  'community.general.pamd': 'pamd',
  'community.crypto.openssh_keypair': 'openssh_keypair',
  'ansible.posix.sysctl': 'sysctl',
  'ansible.posix.mount': 'mount',
  'community.general.sysctl': 'sysctl',
  'ansible.builtin.systemd_service': 'systemd',
  systemd_service: 'systemd',
  'community.general.haproxy': 'haproxy',
  'community.postgresql.postgresql_db': 'postgresql_db',
  'community.postgresql.postgresql_user': 'postgresql_user',
  'ansible.legacy.command': 'command',
  'ansible.legacy.shell': 'shell',
  'community.general.ini_file': 'ini_file',
  'community.general.pam_limits': 'pam_limits',
  'ansible.posix.authorized_key': 'authorized_key',
  'community.general.locale_gen': 'locale_gen',
  'community.general.timezone': 'timezone',
  'community.general.modprobe': 'modprobe',
  'community.general.alternatives': 'alternatives',
  'community.general.ufw': 'ufw',
};

export function resolveModuleName(name: string): string {
  if (ALIASES[name]) return ALIASES[name] as string;
  if (name.startsWith('ansible.builtin.') || name.startsWith('ansible.legacy.')) return name.split('.').pop() as string;
  return name;
}

export function findModule(name: string): Module | undefined {
  return modules.get(resolveModuleName(name));
}
