import { renderValue } from '../template/env.js';
import { VarScope, type ScopeContext, type VarLayer } from '../template/scope.js';
import type { Inherited, Play } from '../playbook/model.js';
import { BECOME_METHODS } from '../transport/become.js';
import type { BecomeSettings } from '../transport/types.js';
import { ModuleError, NotImplementedError } from '../core/errors.js';
import { noOpBecomeFlags } from '../playbook/keywords.js';
import { loopLookup } from './loop.js';
import type { RunState } from './state.js';
import { isLocalhostName } from '../inventory/model.js';

/** Ansible's `omit` placeholder: a parameter set to it is dropped. */
export const OMIT = '__omit_place_holder__orch';

const expand = (v: unknown, s: VarScope) => renderValue(v, s);

/**
 * Become `user` with the host's become password (ansible_become_password, or the older _pass), if any,
 * through `method` (the become_method keyword) or ansible_become_method; sudo by default.
 */
export function becomeAs(user: string, scope: VarScope, method?: string): BecomeSettings {
  const m = method ?? (scope.has('ansible_become_method') ? String(scope.get('ansible_become_method')) : 'sudo');
  if (m !== 'sudo' && m !== 'su') {
    throw new ModuleError(`become_method '${m}' is not supported by orch`, {
      hint: `Supported: ${BECOME_METHODS.join(', ')}.`,
    });
  }
  const flags = scope.get('ansible_become_flags');
  if (!noOpBecomeFlags(flags)) {
    throw new NotImplementedError(`ansible_become_flags '${String(flags)}' is not implemented by orch`, {
      hint: "orch runs sudo as with Ansible's default flags (-H -S -n) and su without flags. Remove the variable (or the become_flags setting in ansible.cfg).",
    });
  }
  const pw = scope.get('ansible_become_password') ?? scope.get('ansible_become_pass');
  const settings: BecomeSettings = pw === undefined || pw === null ? { user } : { user, password: String(pw) };
  if (m === 'su') settings.method = 'su';
  return settings;
}

/** Variable names under which the `connection` / `remote_user` keywords reach the connection pool. */
export const KEYWORD_CONNECTION = '_orch_connection_keyword';
export const KEYWORD_REMOTE_USER = '_orch_remote_user_keyword';
export const KEYWORD_PORT = '_orch_port_keyword';

function connectionKeywords(inh: Inherited | undefined, play: Play | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const connection = inh?.connection ?? play?.connection;
  const user = inh?.remote_user ?? play?.remoteUser;
  if (connection !== undefined) out[KEYWORD_CONNECTION] = connection;
  if (user !== undefined) out[KEYWORD_REMOTE_USER] = user;
  const port = inh?.port ?? play?.port;
  if (port !== undefined) out[KEYWORD_PORT] = port;
  return out;
}

export interface PlayVars {
  play: Play;
  /** vars_files, loaded at play start */
  filesVars: Record<string, unknown>;
  playHosts: string[];
  batch: string[];
}

/** What every scope of the run shares: its secrets, the loop lookups; and where this one's lookups look. */
export function scopeContext(rs: RunState, lookupPaths: readonly string[] = []): ScopeContext {
  return { lookupPaths, secrets: rs.secrets, loopLookup };
}

function lookupPaths(rs: RunState, inh: Inherited | undefined, play: Play | undefined): string[] {
  const paths: string[] = [];
  const role = inh?.role;
  if (role)
    paths.push(`${role.path}/files`, `${role.path}/templates`, `${role.path}/vars`, `${role.path}/tasks`, role.path);
  if (inh?.dir) paths.push(`${inh.dir}/files`, `${inh.dir}/templates`, inh.dir);
  const dir = play?.dir ?? rs.playbookDir;
  paths.push(`${dir}/files`, `${dir}/templates`, `${dir}/vars`, dir);
  return paths;
}

function notRemoved(rs: RunState, hosts: string[] | undefined): string[] {
  return (hosts ?? []).filter((h) => {
    const hs = rs.hosts.get(h);
    return !hs?.failed && !hs?.unreachable;
  });
}

function hostvarsObject(rs: RunState, pv: PlayVars | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // the inventory's hosts, then any implicit localhost a play ran on (it is in no group, but in hostvars)
  for (const name of new Set([...rs.inv.order, ...rs.hosts.keys()])) {
    Object.defineProperty(out, name, {
      enumerable: true,
      get: () => {
        // as Ansible's hostvars: the host's own variables, without the play's (play vars, vars_files, role defaults)
        return buildScope(rs, name, pv, undefined, true).asObject();
      },
    });
  }
  return out;
}

/** The magic variables that are the same for every host and task of a play (or of the run, without one). */
const playMagicLayers = new WeakMap<object, VarLayer>();

function playMagic(rs: RunState, pv: PlayVars | undefined): VarLayer {
  const key = pv ?? rs;
  let layer = playMagicLayers.get(key);
  if (layer) return layer;
  const magic: Record<string, unknown> = {
    ...rs.opts.defaultVars,
    omit: OMIT,
    ansible_play_hosts_all: pv?.playHosts ?? [],
    ansible_check_mode: rs.opts.check,
    ansible_diff_mode: rs.opts.diff,
    playbook_dir: pv?.play.dir ?? rs.playbookDir,
    inventory_dir: rs.inventoryDir,
    inventory_file: rs.inventoryFile,
    ansible_inventory_sources: rs.inventoryFile ? [rs.inventoryFile] : [],
    ansible_play_name: pv?.play.name,
    ansible_verbosity: rs.opts.verbose,
    ansible_forks: rs.opts.forks,
    ansible_version: { full: '2.14.0', major: 2, minor: 14, revision: 0, string: '2.14.0 (orch)' },
    ansible_run_tags: rs.opts.tags.length ? rs.opts.tags : ['all'],
    ansible_skip_tags: rs.opts.skipTags,
  };
  if (pv) {
    const { roleNames, dependencyRoleNames } = pv.play;
    magic.ansible_play_role_names = roleNames;
    magic.role_names = roleNames;
    magic.ansible_dependent_role_names = dependencyRoleNames;
  }
  // made when a template reads them: each is as big as the inventory or the play's hosts
  const computed: Record<string, () => unknown> = {
    hostvars: () => hostvarsObject(rs, pv),
    groups: () => Object.fromEntries([...rs.inv.groups.keys()].map((g) => [g, rs.inv.hostsOf(g)])),
    // as Ansible: a host that failed or was unreachable in the play leaves these (not ansible_play_hosts_all)
    play_hosts: () => notRemoved(rs, pv?.batch),
    ansible_play_hosts: () => notRemoved(rs, pv?.playHosts),
    ansible_play_batch: () => notRemoved(rs, pv?.batch),
  };
  // an include_role adds to the play's role names (the arrays above, shared) as the play runs
  if (pv) computed.ansible_role_names = () => [...new Set([...pv.play.dependencyRoleNames, ...pv.play.roleNames])];
  for (const [name, get] of Object.entries(computed)) Object.defineProperty(magic, name, { enumerable: true, get });
  layer = { name: 'magic', vars: magic, templated: false };
  playMagicLayers.set(key, layer);
  return layer;
}

/** The layer of the variables Ansible's play context adds (ansible_host: the inventory name). */
export const PLAY_CONTEXT = 'play context';

/**
 * The connection a host's tasks use when no ansible_connection variable says: local for a localhost the
 * inventory gives no ansible_host, else the play/task `connection:` keyword; undefined: ssh.
 */
export function connectionWithoutVariable(host: string, vars: VarScope): string | undefined {
  const named = vars.layerOf('ansible_host');
  if (isLocalhostName(host) && (named === undefined || named === PLAY_CONTEXT)) return 'local';
  const keyword = vars.get(KEYWORD_CONNECTION);
  return keyword === undefined || keyword === null ? undefined : String(keyword);
}

/**
 * What Ansible's play context adds to a task's variables where nothing else sets them (hostvars do not show
 * them), made from the scope that reads them: ansible_ssh_host, ansible_connection (undefined while being made: a
 * `connection:` keyword that reads it, as before it existed). One layer for every scope; ansible_host, the
 * inventory name, is a layer of each host's.
 */
const PLAY_CONTEXT_COMPUTED: VarLayer = {
  name: PLAY_CONTEXT,
  vars: Object.freeze({
    ansible_ssh_host: (scope: VarScope) => scope.get('ansible_host'),
    ansible_connection: (scope: VarScope) =>
      connectionWithoutVariable(String(scope.get('inventory_hostname')), scope) ?? 'ssh',
  }),
  templated: false,
  computed: true,
};

/**
 * The variables a task sees on a host, lowest precedence first (see README "Variable precedence"):
 * magic < role defaults < inventory group_vars (all → parents → children) < host_vars < facts <
 * play vars < vars_files < the play's role vars < the task's role vars, block and task vars < set_fact/register <
 * role params and include_tasks/include_role vars < extra vars.
 */
export function buildScope(
  rs: RunState,
  host: string | undefined,
  pv: PlayVars | undefined,
  inh: Inherited | undefined,
  hostOnly = false,
): VarScope {
  const hs = host === undefined ? undefined : rs.hosts.get(host);
  // no host (handler names, as Ansible templates them): no inventory_hostname, group_names, inventory vars, facts
  const magic: Record<string, unknown> =
    host === undefined
      ? {}
      : {
          inventory_hostname: host,
          inventory_hostname_short: host.split('.')[0],
          group_names: rs.inv.groupNames(host),
        };
  if (inh?.role?.parents) magic.ansible_parent_role_names = inh.role.parents;
  if (inh?.role) {
    magic.role_name = inh.role.name;
    magic.ansible_role_name = inh.role.name; // the fully qualified name; a role from roles/ has no namespace
    magic.role_path = inh.role.path;
  }
  // where relative files are looked for, as Ansible tells tasks: the role, then the playbook's directory
  magic.ansible_search_path = [...(inh?.role ? [inh.role.path] : []), pv?.play.dir ?? rs.playbookDir];
  const layers: VarLayer[] = [playMagic(rs, pv), { name: 'magic', vars: magic, templated: false }];
  // connection keywords, below every variable: ansible_connection / ansible_user set anywhere win, as in Ansible
  const kw = connectionKeywords(inh, pv?.play);
  if (Object.keys(kw).length > 0) layers.unshift({ name: 'connection keywords', vars: kw, templated: true });
  // what Ansible's play context adds to a task's variables when nothing sets them (hostvars do not show it)
  if (host !== undefined && !hostOnly)
    layers.unshift({ name: PLAY_CONTEXT, vars: { ansible_host: host }, templated: false }, PLAY_CONTEXT_COMPUTED);
  if (pv && !hostOnly) layers.push({ name: 'role defaults', vars: pv.play.roleDefaults, templated: true });
  if (inh?.role) layers.push({ name: `role ${inh.role.name} defaults`, vars: inh.role.defaults, templated: true });
  if (host !== undefined) layers.push(...rs.inv.varLayers(host));
  const facts = hs?.factVars();
  if (facts) layers.push({ name: 'facts', vars: facts, templated: false });
  if (pv && !hostOnly) {
    layers.push({ name: 'play vars', vars: pv.play.vars, templated: true });
    layers.push({ name: 'vars_files', vars: pv.filesVars, templated: true });
    layers.push({ name: 'role vars', vars: pv.play.roleVars, templated: true });
  }
  if (inh?.role) layers.push({ name: `role ${inh.role.name} vars`, vars: inh.role.vars, templated: true });
  if (inh && Object.keys(inh.vars).length > 0) layers.push({ name: 'task vars', vars: inh.vars, templated: true });
  if (hs) {
    layers.push({ name: 'include_vars', vars: hs.included, templated: true });
    layers.push({ name: 'host facts and registered', vars: hs.runtime, templated: false });
  }
  if (inh?.params) layers.push({ name: 'role and include params', vars: inh.params, templated: true });
  layers.push({ name: 'extra vars', vars: rs.opts.extraVars, templated: true });
  return new VarScope(layers, expand, scopeContext(rs, lookupPaths(rs, inh, pv?.play)));
}
