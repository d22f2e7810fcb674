import type { ModuleResult } from '../core/result.js';
import { sh, shellJoin } from '../transport/quote.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// community.general 6.x alternatives: reads `update-alternatives --display NAME` (LC_ALL=C), then
// --install (missing, other priority or followers), --set (state=selected), --auto, --remove.

interface Sub {
  name: string;
  path: string;
  link: string | null;
}

export interface AltDisplay {
  mode: string | null;
  path: string | null;
  link: string | null;
  alternatives: Map<string, { priority: number; subcommands: Sub[] }>;
}

export interface AltState {
  display: AltDisplay;
  pathExists: boolean;
}

export function parseDisplay(out: string | null, paramSubs: Sub[] | null): AltDisplay {
  const d: AltDisplay = { mode: null, path: null, link: null, alternatives: new Map() };
  if (out === null) return d;
  const mode = /\s-\s(?:status\sis\s)?(\w*)(?:\smode|.)$/m.exec(out);
  if (!mode) return d;
  d.mode = mode[1] ?? '';
  d.path = /^\s*link currently points to (.*)$/m.exec(out)?.[1] ?? null;
  d.link = /^\s*link \w+ is (.*)$/m.exec(out)?.[1] ?? null;
  let links = new Map<string, string>(
    [...out.matchAll(/^\s*(?:slave|follower) (\S+) is (.*)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  if (links.size === 0 && paramSubs) links = new Map(paramSubs.map((s) => [s.name, s.link ?? '']));
  for (const m of out.matchAll(/^(\/.*)\s-\s(?:family\s\S+\s)?priority\s(\d+)((?:\s+(?:slave|follower).*)*)/gm)) {
    const subcommands = [...(m[3] ?? '').matchAll(/^\s+(?:slave|follower) (.*): (.*)$/gm)]
      .filter((s) => s[2] !== '(null)')
      .map((s) => ({ name: s[1] as string, path: s[2] as string, link: links.get(s[1] as string) ?? null }));
    d.alternatives.set(m[1] as string, { priority: Number(m[2]), subcommands });
  }
  return d;
}

function paramSubs(p: Params): Sub[] | null {
  if (!Array.isArray(p.subcommands)) return null;
  return (p.subcommands as Record<string, unknown>[]).map((s) => ({
    name: String(s.name),
    path: String(s.path),
    link: String(s.link),
  }));
}

const sameSub = (a: Sub, b: Sub) => a.name === b.name && a.path === b.path && a.link === b.link;

export interface AltPlan {
  argvs: string[][];
  messages: string[];
}

/** Pure: the update-alternatives calls and Ansible's messages, or null when nothing changes. */
export function planAlternatives(p: Params, s: AltState): AltPlan | null {
  const name = String(p.name);
  const path = String(p.path);
  const state = String(p.state ?? 'selected');
  const d = s.display;
  const subs = paramSubs(p);
  const cur = d.alternatives.get(path);
  const argvs: string[][] = [];
  const messages: string[] = [];
  if (state !== 'absent') {
    const prio = typeof p.priority === 'number' ? p.priority : undefined;
    const needInstall =
      !cur ||
      (prio !== undefined && cur.priority !== prio) ||
      (subs !== null &&
        (!cur.subcommands.every((c) => subs.some((x) => sameSub(x, c))) ||
          !subs.every((x) => cur.subcommands.some((c) => sameSub(x, c)))));
    if (needInstall) {
      if (!s.pathExists) throw new ModuleFailure(`Specified path ${path} does not exist`);
      const link = (typeof p.link === 'string' && p.link) || d.link;
      if (!link)
        throw new ModuleFailure('Needed to install the alternative, but unable to do so as we are missing the link');
      const argv = ['--install', link, name, path, String(prio ?? cur?.priority ?? 50)];
      for (const f of subs ?? []) argv.push('--slave', f.link ?? '', f.name, f.path);
      argvs.push(argv);
      messages.push(`Install alternative '${path}' for '${name}'.`);
    }
    if (state === 'selected' && d.path !== path) {
      argvs.push(['--set', name, path]);
      messages.push(`Set alternative '${path}' for '${name}'.`);
    }
    if (state === 'auto' && d.mode === 'manual') {
      argvs.push(['--auto', name]);
      messages.push(`Set alternative to auto for '${name}'.`);
    }
  } else if (cur) {
    argvs.push(['--remove', name, path]);
    messages.push(`Remove alternative '${path}' from '${name}'.`);
  }
  return argvs.length > 0 ? { argvs, messages } : null;
}

function checkArg(what: string, v: string): void {
  if (v === '' || /[\x00-\x1f\x7f]/.test(v) || v.startsWith('-'))
    throw new ModuleFailure(`invalid ${what}: ${JSON.stringify(v)}`);
}

async function queryAlt(ctx: ModuleContext, p: Params): Promise<AltState> {
  checkArg('name', String(p.name));
  checkArg('path', String(p.path));
  if (typeof p.link === 'string') checkArg('link', p.link);
  for (const s of paramSubs(p) ?? []) for (const v of [s.name, s.path, s.link ?? '']) checkArg('subcommand', v);
  const r = await ctx.run(
    sh`command -v update-alternatives >/dev/null || { echo 'Failed to find required executable "update-alternatives" in paths: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' >&2; exit 127; }; [ -e ${String(p.path)} ] && echo EXISTS; o=$(LC_ALL=C update-alternatives --display ${String(p.name)} 2>/dev/null) && { echo @DISPLAY; printf '%s\\n' "$o"; }; true`,
  );
  if (r.rc !== 0) throw new ModuleFailure(r.stderr.trim(), { rc: r.rc });
  const i = r.stdout.indexOf('@DISPLAY\n');
  return {
    pathExists: /^EXISTS$/m.test(r.stdout.slice(0, i < 0 ? undefined : i)),
    display: parseDisplay(i < 0 ? null : r.stdout.slice(i + 9), paramSubs(p)),
  };
}

export const alternatives = defineStateModule<AltState, AltPlan>({
  name: 'alternatives',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true },
      path: { type: 'path', support: 'full', required: true },
      link: { type: 'path', support: 'full' },
      priority: { type: 'int', support: 'full' },
      state: { type: 'str', support: 'full', default: 'selected', choices: ['present', 'selected', 'absent', 'auto'] },
      subcommands: { type: 'list', support: 'full', elements: 'dict', aliases: ['slaves'] },
    },
  },
  query: queryAlt,
  describe: () => ({ msg: '' }),
  plan(p, s) {
    const planned = planAlternatives(p, s);
    if (!planned) return null;
    const result: Partial<ModuleResult> = {
      msg: planned.messages.join(' '),
      diff: [
        { path: `alternatives ${String(p.name)}`, before: `${s.display.path ?? ''}\n`, after: `${String(p.path)}\n` },
      ],
    };
    return { changes: planned, result };
  },
  async apply(ctx, _p, c) {
    for (const argv of c.argvs) {
      const cmd = `LC_ALL=C update-alternatives ${shellJoin(argv)}`;
      const r = await ctx.run(cmd);
      if (r.rc !== 0)
        throw Object.assign(commandFailed(`update-alternatives ${argv[0] ?? ''}`, r), {
          message: (r.stderr || r.stdout).trim(),
        });
    }
  },
});
