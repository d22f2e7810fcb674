import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { formatPosition, ParseError, type Position } from '../core/errors.js';
import { findModule } from '../modules/registry.js';
import { namesInExpression, namesInTemplate, type NamesRead } from '../template/names.js';
import type { Secrets } from '../core/secrets.js';
import { loadVarsPath } from '../yaml/load.js';
import { containsTemplate } from './args.js';
import type { Item, Play, Playbook, Task } from './model.js';

/**
 * Names a playbook reads that nothing defines: not a vars source, the inventory, role defaults/vars/params,
 * register, set_fact, include_vars, loop variables, facts orch gathers or magic variables. Checked before any
 * connection. Where a name MAY be defined at run time (a templated include_vars file or set_fact key, an
 * include loaded at run time, a module orch does not know, which may return facts), nothing is reported.
 * `sure`: the task is reached whenever the play runs (no condition, loop, rescue or handler before the use),
 * so the run would fail there after changing hosts with the tasks before it.
 */
export interface UndefinedUse {
  name: string;
  pos: Position;
  sure: boolean;
}

/** Variables Ansible defines itself (besides every ansible_* name: facts, connection and magic variables). */
const MAGIC = [
  'hostvars',
  'groups',
  'group_names',
  'inventory_hostname',
  'inventory_hostname_short',
  'inventory_dir',
  'inventory_file',
  'playbook_dir',
  'play_hosts',
  'role_name',
  'role_path',
  'role_names',
  'omit',
  'item',
  'vars',
  'environment',
];

/** Facts modules return under names of their own (getent's are getent_DATABASE). */
const FACT_NAMES: Record<string, (args: Record<string, unknown>) => string[]> = {
  package_facts: () => ['packages'],
  service_facts: () => ['services'],
  getent: (a) => [`getent_${String(a.database)}`],
};

interface Walked {
  task: Task;
  play: Play;
  /** reached whenever its play runs (outside rescue and handlers) */
  reached: boolean;
}

class Definitions {
  readonly names = new Set<string>(MAGIC);
  /** something may define names this analysis cannot see: report nothing */
  dynamic = false;

  /** secrets: the vault password for the vars files read, and where their secrets are registered */
  constructor(private readonly secrets: Secrets) {}

  add(obj: unknown): void {
    if (typeof obj === 'object' && obj !== null) for (const k of Object.keys(obj)) this.names.add(k);
  }

  fromTask(t: Task, play: Play): void {
    this.add(t.vars);
    this.add(t.params);
    if (t.role) [t.role.defaults, t.role.vars, t.role.params].forEach((v) => this.add(v));
    if (t.register) this.names.add(t.register);
    if (t.loop_control) [t.loop_control.loop_var, t.loop_control.index_var].forEach((n) => n && this.names.add(n));
    const mod = findModule(t.module);
    if (!mod) this.dynamic = true;
    else if (mod.name === 'set_fact') {
      for (const k of Object.keys(t.args)) if (containsTemplate(k)) this.dynamic = true;
      this.add(t.args);
    } else if (mod.name === 'include_vars') this.includeVars(t, play);
    else if (mod.name === 'add_host')
      this.add(t.args); // the added host's variables, read by later plays
    else if (FACT_NAMES[mod.name]) {
      if (containsTemplate(t.args)) this.dynamic = true;
      FACT_NAMES[mod.name]?.(t.args).forEach((n) => this.names.add(n));
    }
  }

  private includeVars(t: Task, play: Play): void {
    if (typeof t.args.name === 'string') return void this.names.add(t.args.name);
    const want = t.args.file ?? t.args._raw_params;
    if (typeof want !== 'string' || containsTemplate(want)) return void (this.dynamic = true);
    const dirs = [
      ...(t.role ? [join(t.role.path, 'vars'), t.role.path] : []),
      join(t.dir, 'vars'),
      t.dir,
      join(play.dir, 'vars'),
      play.dir,
    ];
    const found = isAbsolute(want) ? want : dirs.map((d) => resolve(d, want)).find((p) => existsSync(p));
    if (!found || !existsSync(found)) return void (this.dynamic = true);
    this.add(loadVarsPath(found, this.secrets));
  }
}

function walk(play: Play, items: Item[], reached: boolean, out: Walked[], defs: Definitions): void {
  for (const it of items) {
    if (it.kind === 'task') out.push({ task: it, play, reached });
    else if (it.kind === 'block') {
      walk(play, it.block, reached, out, defs);
      walk(play, it.rescue, false, out, defs);
      walk(play, it.always, reached, out, defs);
    } else if (it.preloaded) walk(play, it.preloaded, reached && it.when.length === 0 && !it.loop, out, defs);
    else defs.dynamic = true; // tasks loaded at run time: what they define is not known now
  }
}

function scanValue(v: unknown, into: NamesRead): void {
  if (typeof v === 'string') namesInTemplate(v.replace(/\{%-?\s*raw\s*-?%\}[\s\S]*?\{%-?\s*endraw\s*-?%\}/g, ''), into);
  else if (Array.isArray(v)) v.forEach((x) => scanValue(x, into));
  else if (typeof v === 'object' && v !== null) Object.values(v).forEach((x) => scanValue(x, into));
}

function scanCondition(v: unknown, into: NamesRead): void {
  for (const c of Array.isArray(v) ? v : [v]) if (typeof c === 'string') namesInExpression(c, into);
}

/**
 * The names one task reads: `first` where it is always evaluated, `rest` where a condition may skip it. As in
 * Ansible: a loop's items come first and the condition is asked per item (an empty loop asks nothing), but a
 * loop that cannot be templated fails only when the condition holds.
 */
function usesOf(t: Task): { first: NamesRead; rest: NamesRead } {
  const first: NamesRead = { used: new Set(), guarded: new Set() };
  const rest: NamesRead = { used: new Set(), guarded: new Set() };
  scanCondition(t.when.slice(0, 1), t.loop ? rest : first);
  scanCondition(t.when.slice(1), rest);
  const body = t.when.length === 0 && !t.loop ? first : rest;
  scanValue(t.args, body);
  scanValue(t.loop?.value, t.when.length === 0 ? first : rest);
  scanValue(t.delegate_to, body);
  for (const c of [t.changed_when, t.failed_when, t.until]) scanCondition(c, body);
  return { first, rest };
}

export function undefinedNames(pb: Playbook, definedOutside: Iterable<string>, secrets: Secrets): UndefinedUse[] {
  const defs = new Definitions(secrets);
  for (const n of definedOutside) defs.names.add(n);
  const walked: Walked[] = [];
  for (const play of pb.plays) {
    defs.add(play.vars);
    defs.add(play.roleDefaults);
    defs.add(play.roleVars);
    for (const f of play.varsFiles) {
      const path = resolve(play.dir, f);
      if (containsTemplate(f) || !existsSync(path)) defs.dynamic = true;
      else defs.add(loadVarsPath(path, secrets));
    }
    for (const section of play.sections) walk(play, section, true, walked, defs);
    walk(play, play.handlers, false, walked, defs);
  }
  for (const w of walked) defs.fromTask(w.task, w.play);
  if (defs.dynamic) return [];
  const out: UndefinedUse[] = [];
  for (const { task, reached } of walked) {
    const { first, rest } = usesOf(task);
    const guarded = new Set([...first.guarded, ...rest.guarded]);
    const missing = (n: string) => !defs.names.has(n) && !n.startsWith('ansible_') && !guarded.has(n);
    const seen = new Set<string>();
    for (const [names, sure] of [
      [first.used, reached && task.ignore_errors === undefined],
      [rest.used, false],
    ] as const) {
      for (const name of names)
        if (missing(name) && !seen.has(name)) {
          seen.add(name);
          out.push({ name, pos: task.pos, sure });
        }
    }
  }
  return out;
}

/**
 * Refuse a playbook that would fail on a name defined nowhere, before anything runs (and before any host is
 * changed by the tasks in front of it). Only uses a run surely reaches; the others are `orch check` warnings.
 */
export function refuseUndefinedNames(pb: Playbook, definedOutside: Iterable<string>, secrets: Secrets): void {
  const sure = undefinedNames(pb, definedOutside, secrets).filter((u) => u.sure);
  const first = sure[0];
  if (!first) return;
  const more = sure.slice(1).map((u) => `'${u.name}' at ${formatPosition(u.pos)}`);
  throw new ParseError(
    `'${first.name}' is undefined: no vars source, inventory, role, register, set_fact or include_vars defines it${more.length > 0 ? ` (also ${more.join(', ')})` : ''}`,
    first.pos,
    `Define it (role defaults, group_vars, -e), or allow it to be missing: {{ ${first.name} | default(...) }} or when: ${first.name} is defined.`,
  );
}
