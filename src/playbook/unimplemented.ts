import { existsSync } from 'node:fs';
import { NotImplementedError, type Position } from '../core/errors.js';
import type { Secrets } from '../core/secrets.js';
import { findModule } from '../modules/registry.js';
import { declaredNames, unsupportedParam } from '../modules/spec.js';
import { containsTemplate } from './args.js';
import { BACKGROUND_MODULES, LINEAR_COMPATIBLE_STRATEGIES, POLL_ZERO } from './keywords.js';
import type { DynamicInclude, Item, Play, Playbook, Task } from './model.js';
import { RoleLoader } from './roles.js';
import { loadTasksFile, resolveTasksFile, type LoadContext } from './tasks.js';

export interface Unimplemented {
  pos: Position;
  what: string;
}

/** What a task uses that Ansible has and orch does not implement (it fails if a host reaches it). */
function ofTask(t: Task): string[] {
  const mod = findModule(t.module);
  const background = mod && BACKGROUND_MODULES.includes(mod.name);
  const out = (t.notImplemented ?? [])
    .filter((k) => !(background && k === POLL_ZERO))
    .map((k) => `keyword '${k}' is not implemented by orch`);
  if (!mod) return [`module '${t.module}' is not implemented by orch`, ...out];
  if (mod.spec.anyParams) return out;
  const declared = declaredNames(mod.spec);
  for (const k of Object.keys(t.args))
    if (!declared.has(k)) out.push(`${mod.name}: parameter '${k}' is not implemented by orch`);
  const literal = Object.fromEntries(
    Object.entries(t.args).filter(([k, v]) => declared.has(k) && !containsTemplate(v)),
  );
  try {
    unsupportedParam(mod.name, mod.spec, literal);
  } catch (err) {
    if (err instanceof NotImplementedError) out.push(err.message);
    else throw err;
  }
  return out;
}

/** An include loaded at run time (looped, or behind a condition), read now when its file name is literal. */
function included(inc: DynamicInclude, play: Play, out: Unimplemented[], secrets: Secrets): Item[] {
  if (containsTemplate(inc.file)) return [];
  const file = resolveTasksFile(inc.file, inc);
  if (!existsSync(file)) {
    out.push({ pos: inc.pos, what: `include_tasks: ${inc.file} does not exist (fails if a host reaches it)` });
    return [];
  }
  const roles = new RoleLoader(play.rolePaths);
  const ctx: LoadContext = {
    file,
    stack: [inc.pos.file],
    nextId: () => 0,
    loadRole: (spec, inh, at, exported) => roles.load(spec, inh, at, ctx, exported),
    secrets,
  };
  return loadTasksFile(file, ctx, { ...inc, when: [] }, inc.pos);
}

function walk(items: Item[], play: Play, out: Unimplemented[], secrets: Secrets, depth = 0): void {
  for (const it of items) {
    if (it.kind === 'task') for (const what of ofTask(it)) out.push({ pos: it.pos, what });
    else if (it.kind === 'block') walk([...it.block, ...it.rescue, ...it.always], play, out, secrets, depth);
    else if (it.preloaded) walk(it.preloaded, play, out, secrets, depth);
    else if (depth < 20) walk(included(it, play, out, secrets), play, out, secrets, depth + 1);
  }
}

/**
 * Everything in a loaded playbook that Ansible knows and orch does not implement, for `orch check`:
 * the loader lets these through (a task for another OS family never runs), the executor refuses them when
 * a host reaches them. Files included at run time are read when their name is literal (not templated), with
 * the vault password of `secrets`.
 */
export function listUnimplemented(pb: Playbook, secrets: Secrets): Unimplemented[] {
  const out: Unimplemented[] = [];
  for (const play of pb.plays) {
    for (const k of play.notImplemented)
      out.push({ pos: play.pos, what: `play keyword '${k}' is not implemented by orch` });
    const strategy = play.strategy.replace(/^ansible\.builtin\./, '');
    if (strategy !== 'linear' && !strategy.includes('{{')) {
      out.push({
        pos: play.pos,
        what: LINEAR_COMPATIBLE_STRATEGIES.includes(strategy)
          ? `strategy '${play.strategy}' runs as linear`
          : `strategy '${play.strategy}' is not one Ansible has`,
      });
    }
    for (const section of play.sections) walk(section, play, out, secrets);
    walk(play.handlers, play, out, secrets);
  }
  const seen = new Set<string>();
  return out.filter((u) => {
    const key = `${u.pos.file}:${u.pos.line}:${u.what}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
