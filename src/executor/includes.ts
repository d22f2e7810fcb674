import type { DynamicInclude, Item, Play, PlayRoles } from '../playbook/model.js';
import { RoleLoader } from '../playbook/roles.js';
import { loadTasksFile, resolveTasksFile, type LoadContext } from '../playbook/tasks.js';
import { evalCondition, renderValue } from '../template/env.js';
import { UnknownValueError } from '../template/unknown.js';
import { expandLoop } from './loop.js';
import { buildScope } from './scope.js';
import { selectedByTags } from './tags.js';
import type { PlayContext } from './play-context.js';

/* include_tasks chosen at run time: files per host (and loop item), run host group by host group. */

/** include_tasks chosen at run time: one file per host (and per loop item), run host group by host group. */
/**
 * "included: FILE for HOST", as Ansible shows and counts it: an ok per file (per loop item); a false condition a
 * skip.
 */
export function reportIncluded(
  pc: PlayContext,
  inc: DynamicInclude,
  plans: Map<string, { file: string; vars: Record<string, unknown> }[]>,
  unknown: Map<string, string>,
): void {
  const { rs } = pc;
  const module = inc.includesRole ? 'include_role' : 'include_tasks';
  rs.emit({
    type: 'task_start',
    taskId: inc.id,
    name: inc.name,
    hosts: [...plans.keys()],
    handler: false,
    module,
    file: inc.pos.file,
    line: inc.pos.line,
  });
  for (const [host, entries] of plans) {
    const st = rs.hosts.get(host)?.stats;
    if (!st) continue;
    const base = {
      type: 'host_result' as const,
      host,
      taskId: inc.id,
      task: inc.name,
      module,
      durationMs: 0,
    };
    const why = unknown.get(host);
    if (entries.length === 0 && (!inc.loop || why)) {
      st.skipped++;
      rs.emit({
        ...base,
        status: 'skipped',
        ...(why ? { msg: `unknown: ${why}`, plan: { status: 'unknown' as const, reason: why } } : {}),
      });
    }
    for (const e of entries) {
      if (!inc.includesRole) st.ok++; // as Ansible: an include_role is shown ok, not counted in the recap
      rs.emit({ ...base, status: 'ok', ...(inc.includesRole ? {} : { msg: `included: ${e.file}` }) });
    }
  }
}

export async function runInclude(pc: PlayContext, inc: DynamicInclude, hosts: string[]): Promise<Set<string>> {
  const { rs } = pc;
  if (!selectedByTags(inc.tags, rs.opts.tags, rs.opts.skipTags)) return new Set();
  const plans = new Map<string, { file: string; vars: Record<string, unknown> }[]>();
  /** plan/check: hosts whose include depends on a value the plan cannot know (executor/plan.ts) */
  const unknown = new Map<string, string>();
  for (const h of hosts) {
    const scope = buildScope(rs, h, pc.pv, inc);
    const entries: { file: string; vars: Record<string, unknown> }[] = [];
    try {
      const items = inc.loop ? expandLoop(inc.loop, scope) : [undefined];
      items.forEach((item, i) => {
        const vars: Record<string, unknown> = inc.loop ? { [inc.loop_control?.loop_var ?? 'item']: item } : {};
        if (inc.loop_control?.index_var) vars[inc.loop_control.index_var] = i;
        const s = scope.with({ name: 'loop', vars, templated: false });
        if (inc.when.length > 0 && !evalCondition(inc.when, s)) return;
        entries.push({
          file: inc.includesRole ? inc.file : resolveTasksFile(String(renderValue(inc.file, s)), inc),
          vars,
        });
      });
    } catch (err) {
      if (!(err instanceof UnknownValueError)) throw err;
      unknown.set(h, err.reason);
      entries.length = 0;
    }
    plans.set(h, entries);
  }
  reportIncluded(pc, inc, plans, unknown);
  const failed = new Set<string>();
  const rounds = Math.max(0, ...[...plans.values()].map((e) => e.length));
  for (let i = 0; i < rounds; i++) {
    const byFile = new Map<string, string[]>();
    for (const [h, entries] of plans) {
      const e = entries[i];
      if (e) byFile.set(e.file, [...(byFile.get(e.file) ?? []), h]);
    }
    for (const [file, group] of byFile) {
      let items = inc.preloaded ?? pc.includeCache.get(file);
      if (!items) {
        items = loadIncluded(pc, file, inc);
        pc.includeCache.set(file, items);
      }
      // Loop variables of this round live in each host's runtime layer while the included tasks run.
      const saved = group.map((h) => {
        const hs = rs.hosts.get(h);
        const vars = plans.get(h)?.[i]?.vars ?? {};
        const before = Object.fromEntries(Object.keys(vars).map((k) => [k, hs?.runtime[k]]));
        hs?.setVars(vars);
        return { hs, before };
      });
      for (const h of await pc.runItems(items, group)) failed.add(h);
      for (const { hs, before } of saved) hs?.setVars(before);
    }
  }
  return failed;
}

/** An included tasks file, with the roles it includes (their handlers and defaults join the play's). */
export function loadIncluded(pc: PlayContext, file: string, inc: DynamicInclude): Item[] {
  const { play } = pc;
  const roles = new RoleLoader(play.rolePaths);
  const ctx: LoadContext = {
    file,
    stack: [inc.pos.file],
    nextId: () => pc.nextDynamicId(),
    loadRole: (spec, inh, at, exported) => roles.load(spec, inh, at, ctx, exported),
    secrets: pc.rs.secrets,
  };
  const items = loadTasksFile(file, ctx, inc.inner ?? { ...inc, when: [] }, inc.pos);
  for (const h of roles.handlers) play.handlers.push(h);
  addRoles(play, roles);
  return items;
}

/** Roles loaded or included at run time join the play: their vars, defaults and names. */
export function addRoles(play: Play, roles: PlayRoles): void {
  Object.assign(play.roleDefaults, roles.defaults);
  Object.assign(play.roleVars, roles.vars);
  play.roleNames.push(...roles.names);
  for (const n of roles.dependencyNames) if (!play.dependencyRoleNames.includes(n)) play.dependencyRoleNames.push(n);
}
