import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// ansible.builtin.debconf (2.14): reads with `debconf-show NAME`, sets with `debconf-set-selections`;
// changed when the question is not shown or its value differs (booleans compared lower-case).

export function parseDebconfShow(out: string): Record<string, string> {
  const sel: Record<string, string> = {};
  for (const line of out.split(/\r\n|\n|\r/)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    sel[
      line
        .slice(0, i)
        .replace(/^\*+|\*+$/g, '')
        .trim()
    ] = line.slice(i + 1).trim();
  }
  return sel;
}

interface DebconfPlan {
  /** what debconf-set-selections gets (True/False written as debconf's true/false) */
  value: string;
  /** Ansible's `current`: the value as compared (lower-case only for a boolean it compared) */
  current: string;
}

/** Pure: the value to set (booleans as debconf writes them), or null when the question already has it. */
export function planDebconf(p: Params, prev: Record<string, string>): DebconfPlan | null {
  const given = ['question', 'vtype', 'value'].filter((k) => p[k] !== undefined && p[k] !== null);
  if (given.length > 0 && given.length < 3)
    throw new ModuleFailure('parameters are required together: question, vtype, value');
  if (p.question === undefined || p.question === null) return null;
  if (p.vtype === undefined || p.vtype === null || p.value === undefined || p.value === null) {
    throw new ModuleFailure('when supplying a question you must supply a valid vtype and value');
  }
  const q = String(p.question);
  let value = String(p.value);
  if (!(q in prev)) return { value: booleanWord(p, value), current: value };
  let existing = prev[q] as string;
  if (p.vtype === 'boolean') {
    value = value.toLowerCase();
    existing = existing.toLowerCase();
  }
  return value === existing ? null : { value: booleanWord(p, value), current: value };
}

function booleanWord(p: Params, v: string): string {
  if (p.vtype !== 'boolean') return v;
  return v === 'True' ? 'true' : v === 'False' ? 'false' : v;
}

function checkWord(what: string, v: string): void {
  if (v === '' || /[\x00-\x1f\x7f\s]/.test(v) || v.startsWith('-'))
    throw new ModuleFailure(`invalid ${what}: ${JSON.stringify(v)}`);
}

async function queryDebconf(ctx: ModuleContext, p: Params): Promise<Record<string, string>> {
  const name = String(p.name);
  checkWord('name', name);
  if (typeof p.question === 'string') checkWord('question', p.question);
  const r = await ctx.run(
    sh`command -v debconf-show >/dev/null || { echo 'Failed to find required executable "debconf-show" in paths: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' >&2; exit 127; }; debconf-show ${name}`,
  );
  if (r.rc !== 0) throw new ModuleFailure(r.stderr, { rc: r.rc });
  return parseDebconfShow(r.stdout);
}

export const debconf = defineStateModule<Record<string, string>, DebconfPlan>({
  name: 'debconf',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true, aliases: ['pkg'] },
      question: { type: 'str', support: 'full', aliases: ['selection', 'setting'] },
      vtype: {
        type: 'str',
        support: 'full',
        choices: ['boolean', 'error', 'multiselect', 'note', 'password', 'seen', 'select', 'string', 'text', 'title'],
      },
      value: { type: 'str', support: 'full', aliases: ['answer'] },
      unseen: { type: 'bool', support: 'full', default: false },
    },
  },
  query: queryDebconf,
  describe: (_p, prev) => ({ msg: '', current: prev }),
  plan(p, prev) {
    const planned = planDebconf(p, prev);
    if (!planned) return null;
    const q = String(p.question);
    // as Ansible: a new question's `previous` is every selection of the package plus it, empty
    const previous = q in prev ? { [q]: prev[q] as string } : { ...prev, [q]: '' };
    const current = { [q]: planned.current };
    const result: Partial<ModuleResult> = { current, previous, msg: '' };
    if (p.vtype !== 'password')
      result.diff = [
        { path: `debconf ${String(p.name)} ${q}`, before: `${previous[q]}\n`, after: `${planned.value}\n` },
      ];
    return { changes: planned, result };
  },
  async apply(ctx, p, c) {
    const data = `${[String(p.name), String(p.question), String(p.vtype), c.value].join(' ')}\n`;
    const r = await ctx.run(`debconf-set-selections${p.unseen === true ? ' -u' : ''}`, { stdin: data });
    if (r.rc !== 0) throw new ModuleFailure(r.stderr, { rc: r.rc });
    return { msg: r.stdout };
  },
});
