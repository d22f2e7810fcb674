import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { formatPosition, type Position } from '../core/errors.js';
import { findModule, resolveModuleName } from '../modules/registry.js';
import { suggest } from '../modules/spec.js';
import { hasTemplate } from '../template/env.js';
import { expressionNames, templateNames, type TemplateNames } from '../template/names.js';
import { loadYamlFile } from '../yaml/load.js';
import type { Item, Play, Playbook, Task } from './model.js';
import { included } from './unimplemented.js';

/*
 * Before any connection: a variable no source defines (vars, vars_files, inventory, role defaults/vars/params,
 * register, set_fact, include_vars, loop variables, facts, magic variables, -e) is an error naming file:line.
 * Where names may appear at run time from something not readable now (a set_fact key or include file that is
 * templated and matches no file, an include of a templated file, a fact module orch does not know) the check
 * says nothing at all. A name tested with `is defined` or given a `default` anywhere is never reported, nor
 * a task that expects failure (ignore_errors, or inside a block with rescue).
 */

export interface UndefinedUse {
  name: string;
  pos: Position;
  /** a defined name it looks like a typo of */
  didYouMean?: string;
}

const MAGIC = new Set([
  'hostvars', 'groups', 'group_names', 'inventory_hostname', 'inventory_hostname_short', 'play_hosts', 'playbook_dir',
  'inventory_dir', 'inventory_file', 'role_name', 'role_path', 'role_names', 'omit', 'vars', 'environment', 'item',
  'template_host', 'template_path', 'template_fullpath', 'template_destpath', 'template_uid', 'template_run_date',
]);
/** Names fact modules set without the ansible_ prefix. */
const FACT_NAMES: Record<string, string[]> = { package_facts: ['packages'], service_facts: ['services'], setup: [], gather_facts: [], hostname: [] };

class Definitions {
  readonly names = new Set<string>();
  /** why something may define names this check cannot see (then it says nothing) */
  openBecause: string | undefined;

  set open(why: string) {
    this.openBecause ??= why;
  }

  add(keys: Iterable<string>): void {
    for (const k of keys) this.names.add(k);
  }

  /** The names a vars file defines; false when it is not one (a playbook next to it, say). */
  addYaml(file: string): boolean {
    let data: unknown;
    try {
      data = existsSync(file) && statSync(file).isFile() ? loadYamlFile(file) : undefined;
    } catch {
      return false;
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
    this.add(Object.keys(data));
    return true;
  }

  /** A file name that may be templated: every file it can match in these directories, or open. */
  addFiles(name: string, dirs: string[]): void {
    if (!hasTemplate(name)) {
      const hit = dirs.map((d) => (isAbsolute(name) ? name : join(d, name))).find((f) => existsSync(f));
      if (hit && statSync(hit).isDirectory()) for (const f of readdirSync(hit)) this.addYaml(join(hit, f));
      else if (hit) this.addYaml(hit);
      else this.open = `${name} is not found here`;
      return;
    }
    const pattern = new RegExp(`^${basename(name).split(/\{\{.*?\}\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const sub = dirname(name);
    let found = false;
    for (const d of dirs) {
      const dir = hasTemplate(sub) ? undefined : isAbsolute(sub) ? sub : join(d, sub);
      if (!dir || !existsSync(dir) || !statSync(dir).isDirectory()) continue;
      for (const f of readdirSync(dir)) {
        if (pattern.test(f) && this.addYaml(join(dir, f))) found = true;
      }
    }
    if (!found) this.open = `no file matches ${name}`;
  }
}

function allItems(items: Item[], play: Play, depth = 0): { task: Task; expectsFailure: boolean }[] {
  const out: { task: Task; expectsFailure: boolean }[] = [];
  for (const it of items) {
    if (it.kind === 'task') out.push({ task: it, expectsFailure: false });
    else if (it.kind === 'block') {
      const inner = allItems([...it.block, ...it.rescue, ...it.always], play, depth);
      out.push(...inner.map((x) => ({ ...x, expectsFailure: x.expectsFailure || it.rescue.length > 0 })));
    } else if (it.preloaded) out.push(...allItems(it.preloaded, play, depth));
    else if (!hasTemplate(it.file) && depth < 20) out.push(...allItems(included(it, play, []), play, depth + 1));
  }
  return out;
}

function searchDirs(t: Task, play: Play): string[] {
  return [...(t.role ? [join(t.role.path, 'vars'), t.role.path] : []), join(t.dir, 'vars'), t.dir, join(play.dir, 'vars'), play.dir];
}

function defineFromTask(d: Definitions, t: Task, play: Play): void {
  if (t.register) d.add([t.register]);
  d.add(Object.keys(t.vars));
  if (t.role) d.add([...Object.keys(t.role.defaults), ...Object.keys(t.role.vars), ...Object.keys(t.role.params)]);
  if (t.loop_control) d.add([t.loop_control.loop_var, ...(t.loop_control.index_var ? [t.loop_control.index_var] : [])]);
  const name = resolveModuleName(t.module);
  const mod = findModule(t.module);
  if (name === 'set_fact') {
    for (const k of Object.keys(t.args)) if (hasTemplate(k)) d.open = `set_fact with the templated name ${k} (${formatPosition(t.pos)})`;
    d.add(Object.keys(t.args));
  } else if (name === 'include_vars') {
    if (typeof t.args.name === 'string') d.add([t.args.name]);
    else {
      const file = t.args.file ?? t.args._raw_params ?? t.args.dir;
      const files = file === '{{ item }}' && Array.isArray(t.loop?.value) ? t.loop.value : [file];
      for (const f of files) {
        if (typeof f === 'string') d.addFiles(f, searchDirs(t, play));
        else d.open = `include_vars of a computed file (${formatPosition(t.pos)})`;
      }
    }
  } else if (name === 'getent') {
    const db = t.args.database;
    if (typeof db === 'string' && !hasTemplate(db)) d.add([`getent_${db}`]);
    else d.open = `getent of a computed database (${formatPosition(t.pos)})`;
  } else if (mod?.gathersFacts || (!mod && /_facts$/.test(name))) {
    const known = FACT_NAMES[name];
    if (known) d.add(known);
    else d.open = `${t.module} sets facts this check does not know (${formatPosition(t.pos)})`;
  }
}

function namesIn(v: unknown, expression = false): TemplateNames[] {
  if (typeof v === 'string') {
    const r = expression && !hasTemplate(v) ? expressionNames(v) : hasTemplate(v) ? templateNames(v) : undefined;
    return r ? [r] : [];
  }
  if (Array.isArray(v)) return v.flatMap((x) => namesIn(x, expression));
  if (v && typeof v === 'object') return Object.values(v).flatMap((x) => namesIn(x, expression));
  return [];
}

/** What one template or expression of a task reads; `file`: a template file (lines are its own). */
interface Read {
  names: TemplateNames;
  file?: string;
  /** the task's loop (not an error when the task has a condition: see below) */
  loop?: boolean;
}

/** The template module's source file, when it can be found now (a literal src). */
function templateFile(t: Task, play: Play): Read[] {
  const src = t.args.src;
  if (findModule(t.module)?.name !== 'template' || typeof src !== 'string' || hasTemplate(src)) return [];
  const dirs = [...(t.role ? [join(t.role.path, 'templates'), t.role.path] : []), join(t.dir, 'templates'), t.dir, join(play.dir, 'templates'), play.dir];
  const file = isAbsolute(src) ? src : dirs.map((d) => join(d, src)).find((f) => existsSync(f) && statSync(f).isFile());
  if (!file || !existsSync(file)) return [];
  const names = templateNames(readFileSync(file, 'utf8'));
  return names ? [{ names, file }] : [];
}

/** The templates and expressions a task evaluates when it runs (its name and vars are not: they fail late, if at all). */
function taskReads(t: Task, play: Play): Read[] {
  const mod = findModule(t.module);
  const plain: TemplateNames[] = [];
  if (!mod?.noTemplate) {
    for (const [k, v] of Object.entries(t.args)) plain.push(...namesIn(v, mod?.rawParams?.includes(k) === true));
  }
  for (const cond of [t.when, t.changed_when, t.failed_when, t.until]) if (typeof cond !== 'boolean') plain.push(...namesIn(cond, true));
  plain.push(...namesIn(t.environment), ...namesIn(t.delegate_to), ...namesIn(t.loop_control?.label));
  return [...plain.map((names) => ({ names })), ...namesIn(t.loop?.value).map((names) => ({ names, loop: true })), ...templateFile(t, play)];
}

/**
 * Uses of variables no source defines, first use of each name; none, with the reason, when names may come
 * from somewhere this check cannot read.
 */
export function findUndefined(pb: Playbook, known: Iterable<string>): { uses: UndefinedUse[]; openBecause?: string } {
  const d = new Definitions();
  d.add(known);
  const perPlay = pb.plays.map((play) => ({ play, tasks: [...play.sections.flatMap((s) => allItems(s, play)), ...allItems(play.handlers, play)] }));
  for (const { play, tasks } of perPlay) {
    d.add([...Object.keys(play.vars), ...Object.keys(play.roleDefaults)]);
    for (const f of play.varsFiles) d.addFiles(f, [play.dir]);
    for (const { task } of tasks) defineFromTask(d, task, play);
    for (const it of play.sections.flat()) if (it.kind === 'include' && hasTemplate(it.file)) d.open = `include of a computed file ${it.file} (${formatPosition(it.pos)})`;
  }
  if (d.openBecause) return { uses: [], openBecause: d.openBecause };
  const guarded = new Set<string>();
  const uses: UndefinedUse[] = [];
  for (const { play, tasks } of perPlay) {
    for (const { task, expectsFailure } of tasks) {
      const reads = taskReads(task, play);
      for (const r of reads) for (const g of r.names.guarded) guarded.add(g);
      if (expectsFailure || task.ignore_errors !== undefined || task.when.some((w) => w === false)) continue;
      for (const r of reads) {
        // as Ansible: a loop that cannot be templated fails only when the task's condition holds
        if (r.loop && task.when.length > 0) continue;
        for (const [name, line] of r.names.reads) {
          if (d.names.has(name) || MAGIC.has(name) || name.startsWith('ansible_')) continue;
          uses.push({ name, pos: r.file ? { file: r.file, line: line + 1 } : { file: task.pos.file, line: task.pos.line } });
        }
      }
    }
  }
  const seen = new Set<string>();
  const found = uses.filter((u) => !guarded.has(u.name) && !seen.has(u.name) && seen.add(u.name));
  for (const u of found) u.didYouMean = suggest(u.name, d.names);
  return { uses: found };
}

