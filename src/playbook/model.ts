import type { Position } from '../core/errors.js';

/** A role as loaded for one play: where its files are and its variables. */
export interface RoleContext {
  name: string;
  path: string;
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  params: Record<string, unknown>;
  /** the roles that import or include this one, nearest first (ansible_parent_role_names) */
  parents?: string[];
}

export type LoopKind =
  | 'loop'
  | 'items'
  | 'dict'
  | 'together'
  | 'sequence'
  | 'fileglob'
  | 'list'
  | 'indexed_items'
  | 'nested'
  | 'subelements'
  | 'first_found'
  | 'flattened';

export interface LoopSpec {
  kind: LoopKind;
  /** the loop expression: a list, or a string to template */
  value: unknown;
}

export interface LoopControl {
  loop_var: string;
  index_var?: string;
  label?: string;
  pause?: number;
  extended?: boolean;
  /** with extended: ansible_loop.allitems (Ansible's default: yes) */
  extended_allitems?: boolean;
}

/** Keywords a task inherits from its enclosing blocks, imports and roles (flattened at load). */
export interface Inherited {
  when: unknown[];
  tags: string[];
  become?: boolean;
  become_user?: string;
  become_method?: string;
  environment: Record<string, unknown>[];
  vars: Record<string, unknown>;
  /**
   * role params and include_tasks/include_role `vars:`: above set_fact and include_vars, as Ansible's role params
   * and include params (import_tasks/import_role `vars:` are task vars, in `vars`)
   */
  params?: Record<string, unknown>;
  ignore_errors?: unknown;
  ignore_unreachable?: boolean;
  no_log?: unknown;
  check_mode?: unknown;
  diff?: boolean;
  delegate_to?: string;
  run_once?: boolean;
  any_errors_fatal?: boolean;
  /** `connection:` keyword (local, ssh, smart...); an ansible_connection variable wins over it, as in Ansible */
  connection?: string;
  /** `remote_user:` keyword: the ssh login; an ansible_user variable wins over it, as in Ansible */
  remote_user?: string;
  /** `port:` keyword: the ssh port; an ansible_port variable wins over it, as in Ansible */
  port?: string;
  /** `timeout:` of a play or block, inherited by its tasks (a task's own wins) */
  timeout?: unknown;
  /** `module_defaults:` of the play, blocks, role and task, outermost first (module name → default arguments) */
  module_defaults?: Record<string, unknown>[];
  /** `delegate_facts:` facts the task sets go to the delegated host */
  delegate_facts?: boolean;
  /** `throttle:` at most this many hosts run the task at once (0: no limit beyond forks); templated */
  throttle?: unknown;
  /** Ansible keywords set here that orch does not implement: a task under them fails when a host reaches it */
  notImplemented?: string[];
  role?: RoleContext;
  /** directory of the file the task came from (for relative includes and lookups) */
  dir: string;
}

export interface Task extends Inherited {
  kind: 'task';
  id: number;
  name: string;
  module: string;
  args: Record<string, unknown>;
  pos: Position;
  loop?: LoopSpec;
  loop_control?: LoopControl;
  register?: string;
  notify: string[];
  changed_when?: unknown;
  failed_when?: unknown;
  until?: unknown;
  /** numbers, or templates rendered per host */
  retries?: unknown;
  delay?: unknown;
  /** seconds each remote command of the task may take (`timeout:`); templated */
  timeout?: unknown;
  /** `async:` with a polling `poll:` — the task waits as Ansible's polling does, at most this many seconds */
  async?: unknown;
  /** handlers only: extra topics this handler answers to */
  listen: string[];
  /** delegate_facts, throttle and other accepted but unused keywords are dropped at load */
}

export interface Block extends Inherited {
  kind: 'block';
  id: number;
  name: string;
  block: Item[];
  rescue: Item[];
  always: Item[];
  pos: Position;
  /** orch's per-block serial: the block runs on one batch of hosts at a time (empty: all at once) */
  serial: (number | string)[];
  /** with serial: stop the play when more than this share of a batch failed in the block */
  maxFailPercentage?: number;
  /** include_role with public: yes: the role's vars, defaults and name join the play's when the block runs */
  publish?: PlayRoles;
}

/** What roles add to their play: their vars and defaults, and names (see Play.roleVars, roleNames). */
export interface PlayRoles {
  vars: Record<string, unknown>;
  defaults: Record<string, unknown>;
  names: string[];
  dependencyNames: string[];
}

/** include_tasks / include_role whose target is only known per host at run time (templated or looped). */
export interface DynamicInclude extends Inherited {
  kind: 'include';
  id: number;
  name: string;
  /** tasks file (templated) */
  file: string;
  loop?: LoopSpec;
  loop_control?: LoopControl;
  pos: Position;
  /**
   * include_tasks of a literal file: its tasks, loaded and checked with the playbook. It still runs as an
   * include (its condition decided once per host, counted in the recap as Ansible counts it).
   */
  preloaded?: Item[];
  /** what its tasks inherit (none of the include's own keywords: they are the include's alone) */
  inner?: Inherited;
  /** include_role: `file` is the role's name, its tasks are preloaded */
  includesRole?: boolean;
}

export type Item = Task | Block | DynamicInclude;

export interface Play {
  name: string;
  hosts: string;
  pos: Position;
  vars: Record<string, unknown>;
  varsFiles: string[];
  gatherFacts: boolean;
  /** gather_subset as written (a list or a comma-separated string); templated when facts are gathered */
  gatherSubset?: unknown;
  /** fact_path: where custom facts (*.fact) live on the hosts */
  factPath?: string;
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: string;
  serial: (number | string)[];
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  /** pre_tasks; roles + tasks; post_tasks: handlers are flushed after each section */
  sections: Item[][];
  handlers: Task[];
  /** defaults of every role in the play (visible play-wide, lowest precedence) */
  roleDefaults: Record<string, unknown>;
  /**
   * vars of the play's roles (roles:, their dependencies, import_role; include_role with public: yes), without
   * their params: visible play-wide above vars_files, as Ansible's exported role vars (private_role_vars = no)
   */
  roleVars: Record<string, unknown>;
  /** ansible_play_role_names (those roles), and the names of their dependencies */
  roleNames: string[];
  dependencyRoleNames: string[];
  dir: string;
  /** as written (templated values are rendered when the play starts); only linear is run as such */
  strategy: string;
  /** where roles are looked up (roles included from a dynamic include_tasks are loaded at run time) */
  rolePaths: string[];
  /** connection / remote_user keywords of the play (also inherited by its tasks) */
  connection?: string;
  remoteUser?: string;
  port?: string;
  /** `force_handlers:` notified handlers run also on hosts that failed */
  forceHandlers: boolean;
  /** host order: inventory, reverse_inventory, sorted, reverse_sorted, shuffle */
  order?: string;
  /** play keywords orch does not implement, with a non-default value: the play fails when reached */
  notImplemented: string[];
  tags: string[];
}

export interface Playbook {
  file: string;
  dir: string;
  plays: Play[];
}
