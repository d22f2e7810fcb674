/**
 * Keywords Ansible has that orch does not implement. Each is refused when a host reaches a task under it
 * (never at load: it may sit in a branch that never runs), unless its value is the one that changes nothing.
 */
export const empty = (v: unknown): boolean =>
  v === undefined ||
  v === null ||
  v === false ||
  v === 0 ||
  v === '0' ||
  v === '' ||
  (typeof v === 'object' && Object.keys(v).length === 0);

/**
 * become_flags that change nothing: orch always runs sudo as Ansible's default `-H -S -n` does (-S and its
 * own prompt with a password, -n without). Other flags (-i, -E, su's -l...) would change the session.
 */
export function noOpBecomeFlags(v: unknown): boolean {
  return (
    empty(v) ||
    (typeof v === 'string' &&
      v
        .trim()
        .split(/\s+/)
        .every((f) => /^-[HSn]+$/.test(f)))
  );
}

/** Task and block keywords: the predicate says when the value is a no-op. */
export const TASK_KEYWORDS_NOT_IMPLEMENTED: Readonly<Record<string, (v: unknown) => boolean>> = {
  // async with poll > 0 runs as a task limited to `async` seconds (see tasks.ts); poll: 0 (fire and forget) runs
  // command and shell as background jobs (modules/async-job.ts) and is refused for other modules
  async: () => true,
  poll: (v) => v === undefined || !empty(v),
  become_exe: empty,
  become_flags: noOpBecomeFlags,
};

/** Play keywords refused when the play is reached (those that flow down to tasks are in the table above). */
export const PLAY_KEYWORDS_NOT_IMPLEMENTED: Readonly<Record<string, (v: unknown) => boolean>> = {
  vars_prompt: empty,
};

/** Keywords of `e` that orch does not implement, set to a value that matters. */
export function notImplementedKeywords(
  e: Record<string, unknown>,
  table: Readonly<Record<string, (v: unknown) => boolean>>,
): string[] {
  const names = Object.keys(table).filter((k) => e[k] !== undefined && !(table[k] as (v: unknown) => boolean)(e[k]));
  return names.map((k) => (k === 'poll' ? POLL_ZERO : k));
}

/** The name `poll: 0` goes by among a task's keywords orch does not implement (see isBackgroundJob). */
export const POLL_ZERO = 'poll: 0 (async without waiting)';
/** The modules `poll: 0` runs as background jobs (modules/async-job.ts). */
export const BACKGROUND_MODULES: readonly string[] = ['command', 'shell'];

/** Connection plugins orch runs: local (the existing local transport) and ssh (smart and paramiko mean ssh). */
export const CONNECTIONS: Readonly<Record<string, 'local' | 'ssh'>> = {
  local: 'local',
  ssh: 'ssh',
  smart: 'ssh',
  paramiko: 'ssh',
  paramiko_ssh: 'ssh',
  'ansible.builtin.local': 'local',
  'ansible.builtin.ssh': 'ssh',
  'ansible.legacy.local': 'local',
  'ansible.legacy.ssh': 'ssh',
};

/** Strategies: linear is what orch runs; these others can run as linear (same end state, hosts kept in step). */
export const LINEAR_COMPATIBLE_STRATEGIES = [
  'free',
  'host_pinned',
  'debug',
  'mitogen_linear',
  'mitogen_free',
  'mitogen_host_pinned',
];
