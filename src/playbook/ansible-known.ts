import { ANSIBLE_COLLECTIONS, ANSIBLE_MODULES, ANSIBLE_REDIRECTS } from './ansible-names.js';

/**
 * What Ansible itself knows (data in ansible-names.ts). orch refuses at load only names Ansible does not
 * know (typos); a module or parameter Ansible has and orch lacks fails when a host reaches the task.
 */
export interface AnsibleModule {
  fqcn: string;
  /** parameter names and aliases; undefined when the module's collection is not listed (any name passes) */
  params?: ReadonlySet<string>;
}

const cache = new Map<string, ReadonlySet<string>>();

function paramsOf(fqcn: string): ReadonlySet<string> | undefined {
  const text = ANSIBLE_MODULES[fqcn];
  if (text === undefined) return undefined;
  let set = cache.get(fqcn);
  if (!set) {
    const names = text.split(' ').filter((s) => s);
    // free-form modules (command, shell, raw...): orch keeps the free text as _raw_params
    if (names.includes('free_form') || names.includes('free-form')) names.push('_raw_params');
    if (fqcn === 'ansible.builtin.package') names.push(...packageManagerParams());
    set = new Set(names);
    cache.set(fqcn, set);
  }
  return set;
}

/** `package` hands every other argument to the host's package manager module (yum's enablerepo...). */
const PACKAGE_MANAGERS = [
  'ansible.builtin.apt',
  'ansible.builtin.dnf',
  'ansible.builtin.yum',
  'community.general.apk',
  'community.general.pacman',
  'community.general.zypper',
  'community.general.pkgng',
  'community.general.openbsd_pkg',
  'community.general.portage',
  'community.general.homebrew',
  'community.general.pkgutil',
  'community.general.swdepot',
  'community.general.urpmi',
  'community.general.xbps',
  'community.general.slackpkg',
  'community.general.opkg',
  'community.general.pkg5',
  'community.general.macports',
  'ansible.posix.patch',
];

function packageManagerParams(): string[] {
  return PACKAGE_MANAGERS.flatMap((m) => (ANSIBLE_MODULES[m] ?? '').split(' ')).filter((s) => s);
}

/** The module Ansible would run for this task key, or undefined when Ansible does not know the name. */
export function ansibleModule(name: string): AnsibleModule | undefined {
  const short = /^ansible\.(builtin|legacy)\.[^.]+$/.test(name) ? (name.split('.').pop() ?? name) : name;
  const candidates = short.includes('.') ? [short] : [`ansible.builtin.${short}`, ANSIBLE_REDIRECTS[short]];
  for (const c of candidates)
    if (c !== undefined && ANSIBLE_MODULES[c] !== undefined) return { fqcn: c, params: paramsOf(c) };
  // old collection paths (community.general.packaging.os.zypper): the collection routes them to its module
  const parts0 = name.split('.');
  if (parts0.length > 3) {
    const flat = `${parts0[0]}.${parts0[1]}.${parts0[parts0.length - 1]}`;
    if (ANSIBLE_MODULES[flat] !== undefined) return { fqcn: flat, params: paramsOf(flat) };
  }
  // NAMESPACE.COLLECTION.MODULE of a collection not listed: not checked (orch lacks it: fails when reached)
  const parts = name.split('.');
  if (
    parts.length >= 3 &&
    parts.every((p) => /^[a-z_][a-z0-9_]*$/i.test(p)) &&
    !ANSIBLE_COLLECTIONS.includes(parts.slice(0, 2).join('.'))
  )
    return { fqcn: name };
  return undefined;
}

/** Every module name a user may write without a collection (for "did you mean"). */
export function ansibleShortNames(): string[] {
  const out = new Set<string>(Object.keys(ANSIBLE_REDIRECTS));
  for (const fqcn of Object.keys(ANSIBLE_MODULES))
    if (fqcn.startsWith('ansible.builtin.')) out.add(fqcn.slice('ansible.builtin.'.length));
  return [...out];
}
