import type { ParamSpec, Params } from './spec.js';
import { sh } from '../transport/quote.js';
import { ModuleFailure } from './types.js';

// apt's parameters that only add apt-get options (as ansible.builtin.apt 2.14 passes them), and `upgrade`.

export const aptOptionParams: Record<string, ParamSpec> = {
  force_apt_get: {
    type: 'bool',
    support: 'full',
    default: false,
    note: 'orch always runs apt-get (aptitude is not used)',
  },
  lock_timeout: { type: 'int', support: 'full', default: 60 },
  dpkg_options: { type: 'str', support: 'full', default: 'force-confdef,force-confold' },
  force: { type: 'bool', support: 'full', default: false },
  allow_unauthenticated: { type: 'bool', support: 'full', default: false, aliases: ['allow-unauthenticated'] },
  allow_downgrade: {
    type: 'bool',
    support: 'full',
    default: false,
    aliases: ['allow-downgrade', 'allow_downgrades', 'allow-downgrades'],
  },
  allow_change_held_packages: { type: 'bool', support: 'full', default: false },
  only_upgrade: { type: 'bool', support: 'full', default: false },
  fail_on_autoremove: { type: 'bool', support: 'full', default: false },
  policy_rc_d: { type: 'int', support: 'full' },
  upgrade: {
    type: 'raw',
    support: 'full',
    default: 'no',
    note: 'apt-get (no aptitude): yes/safe run upgrade --with-new-pkgs, dist/full dist-upgrade',
  },
};

/** upgrade as Ansible reads it ('no' or a yes-like boolean included); undefined when there is none. */
export function upgradeMode(p: Params): string | undefined {
  // name '*' with state latest: every installed package upgraded, as upgrade=yes
  const all = (Array.isArray(p.name) ? p.name : [p.name]).some((n) => n === '*');
  if (all && p.state === 'latest') {
    if ((p.name as unknown[]).length > 1)
      throw new ModuleFailure('unable to install additional packages when upgrading all installed packages');
    return 'yes';
  }
  const v =
    p.upgrade === true
      ? 'yes'
      : p.upgrade === false || p.upgrade === undefined || p.upgrade === null
        ? 'no'
        : String(p.upgrade);
  if (!['dist', 'full', 'no', 'safe', 'yes'].includes(v))
    throw new ModuleFailure(`value of upgrade must be one of: dist, full, no, safe, yes, got: ${v}`);
  return v === 'no' ? undefined : v;
}

/**
 * The apt-get subcommand for an upgrade mode, as Ansible writes it (Debian has no aptitude: Ansible falls back
 * to apt-get).
 */
export function upgradeCommand(mode: string, p: Params): string {
  const auto = p.autoremove === true ? '--auto-remove' : '';
  return mode === 'dist' || mode === 'full' ? `dist-upgrade ${auto}` : `upgrade --with-new-pkgs ${auto}`;
}

/** Options every apt-get call of the task gets: lock wait and dpkg options. */
export function commonOptions(p: Params): string {
  const dpkg = String(p.dpkg_options ?? 'force-confdef,force-confold')
    .split(',')
    .filter((o) => o)
    .map((o) => sh` -o ${`Dpkg::Options::=--${o}`}`)
    .join('');
  return sh`-y -q -o ${`DPkg::Lock::Timeout=${Number(p.lock_timeout ?? 60)}`}` + dpkg;
}

/** The flags Ansible adds to install/upgrade commands. */
export function installFlags(p: Params): string {
  const flags: string[] = [];
  if (p.force === true) flags.push('--force-yes');
  if (p.fail_on_autoremove === true) flags.push('--no-remove');
  if (p.only_upgrade === true) flags.push('--only-upgrade');
  if (p.allow_unauthenticated === true) flags.push('--allow-unauthenticated');
  if (p.allow_downgrade === true) flags.push('--allow-downgrades');
  if (p.allow_change_held_packages === true) flags.push('--allow-change-held-packages');
  return flags.map((f) => ` ${f}`).join('');
}

/** policy_rc_d: /usr/sbin/policy-rc.d exits with that code while the command runs, the old one put back after. */
export function withPolicyRcD(p: Params, cmd: string): string {
  if (p.policy_rc_d === undefined || p.policy_rc_d === null) return cmd;
  const f = '/usr/sbin/policy-rc.d';
  const b = '/usr/sbin/.policy-rc.d.orch-backup';
  return [
    sh`if [ -e ${f} ]; then mv -f -- ${f} ${b}; fi`,
    sh`printf '#!/bin/sh\\nexit %d\\n' ${Number(p.policy_rc_d)} > ${f} && chmod 0755 ${f}`,
    `{ ${cmd}\n}; rc=$?`,
    sh`rm -f -- ${f}; if [ -e ${b} ]; then mv -f -- ${b} ${f}; fi`,
    'exit $rc',
  ].join('\n');
}
