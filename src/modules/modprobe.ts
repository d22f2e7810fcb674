import type { ModuleResult } from '../core/result.js';
import { sh, shellJoin } from '../transport/quote.js';
import { writeRemote } from './remote-file.js';
import { shlexSplit } from './shlex.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// community.general 6.x modprobe: load/unload with modprobe, and the persistent files in
// /etc/modules-load.d/NAME.conf and /etc/modprobe.d/NAME.conf (old lines commented out, as Ansible
// writes them: readlines joined again with '\n', so each commented file gains blank lines).

const LOAD_DIR = '/etc/modules-load.d';
const PARAMS_DIR = '/etc/modprobe.d';
const PATHS = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ModprobeState {
  hasModprobe: boolean;
  /** null: /proc/modules or modules.builtin could not be read (the error text) */
  loaded: boolean | string;
  loadFiles: [string, string][];
  paramFiles: [string, string][];
}

interface ModprobeChange {
  load: boolean;
  unload: boolean;
  writes: [string, string][];
}

function regexps(name: string): { module: RegExp; params: RegExp; values: RegExp } {
  return {
    module: new RegExp(`^ *${name} *(?:[#;].*)?\\n?$`),
    params: new RegExp(`^options ${name} \\w+=\\S+ *(?:[#;].*)?\\n?$`),
    values: new RegExp(`^options ${name} (\\w+=\\S+) *(?:[#;].*)?\\n?$`),
  };
}

const lines = (text: string) => text.split(/(?<=\n)/).filter((l) => l !== '');

/** Pure: the files the persistent part writes (path, content), as Ansible's load/unload_module_permanent. */
export function persistentWrites(p: Params, s: ModprobeState): [string, string][] {
  const name = String(p.name);
  const params = String(p.params ?? '');
  const re = regexps(name);
  const persistently = s.loadFiles.some(([, t]) => lines(t).some((l) => re.module.test(l)));
  const permanent = new Set<string>();
  for (const [, t] of s.paramFiles)
    for (const l of lines(t)) {
      const m = re.values.exec(l);
      if (m) permanent.add(m[1] as string);
    }
  const desired = new Set(params.split(/\s+/).filter((x) => x));
  const paramsSet = desired.size === permanent.size && [...desired].every((x) => permanent.has(x));
  const commentOut = (files: [string, string][], match: RegExp): [string, string][] =>
    files.flatMap(([path, t]) => {
      const ls = lines(t);
      if (!ls.some((l) => match.test(l))) return [];
      return [[path, ls.map((l) => (match.test(l) ? `#${l}` : l)).join('\n')] as [string, string]];
    });
  const writes: [string, string][] = [];
  if (p.persistent === 'present' && !(persistently && paramsSet)) {
    if (!persistently) writes.push([`${LOAD_DIR}/${name}.conf`, `${name}\n`]);
    if (!paramsSet) {
      writes.push(...commentOut(s.paramFiles, re.params));
      writes.push([
        `${PARAMS_DIR}/${name}.conf`,
        `${[...params.split(/\s+/).filter((x) => x)].map((x) => `options ${name} ${x}`).join('\n')}\n`,
      ]);
    }
  } else if (p.persistent === 'absent' && (persistently || permanent.size > 0)) {
    if (persistently) writes.push(...commentOut(s.loadFiles, re.module));
    if (permanent.size > 0) writes.push(...commentOut(s.paramFiles, re.params));
  }
  return writes;
}

async function queryModprobe(ctx: ModuleContext, p: Params): Promise<ModprobeState> {
  const name = String(p.name);
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('-'))
    throw new ModuleFailure(`invalid kernel module name ${JSON.stringify(name)}`);
  const script = [
    'command -v modprobe >/dev/null && echo HAS',
    sh`n=${name}`,
    'm=$(printf "%s" "$n" | tr - _)',
    'if [ ! -r /proc/modules ]; then echo "ERR|[Errno 2] No such file or directory: \'/proc/modules\'"',
    'elif grep -q "^$m " /proc/modules; then echo LOADED',
    'else b=/lib/modules/$(uname -r)/modules.builtin; if [ ! -r "$b" ]; then echo "ERR|[Errno 2] No such file or directory: \'$b\'"; elif grep -q "/$n\\.ko\\s*$" "$b"; then echo LOADED; fi; fi',
    `for d in ${LOAD_DIR} ${PARAMS_DIR}; do [ -d "$d" ] || continue; for f in "$d"/*; do [ -f "$f" ] || continue; printf '%s|%s|' "$d" "$f"; base64 -w0 < "$f"; echo; done; done`,
    'true',
  ].join('\n');
  const r = await ctx.run(script);
  if (r.rc !== 0) throw commandFailed('reading kernel modules', r);
  const out = r.stdout.split('\n');
  const files = (dir: string) =>
    out
      .filter((l) => l.startsWith(`${dir}|`))
      .map((l) => {
        const [, path = '', b64 = ''] = l.split('|');
        return [path, Buffer.from(b64, 'base64').toString('utf8')] as [string, string];
      });
  const err = out.find((l) => l.startsWith('ERR|'));
  return {
    hasModprobe: out.includes('HAS'),
    loaded: err ? err.slice(4) : out.includes('LOADED'),
    loadFiles: files(LOAD_DIR),
    paramFiles: files(PARAMS_DIR),
  };
}

function keys(p: Params, changed: boolean): Partial<ModuleResult> {
  return { changed, name: p.name, params: p.params ?? '', state: p.state };
}

export const modprobe = defineStateModule<ModprobeState, ModprobeChange>({
  name: 'modprobe',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true },
      state: { type: 'str', support: 'full', default: 'present', choices: ['absent', 'present'] },
      params: { type: 'str', support: 'full', default: '' },
      persistent: { type: 'str', support: 'full', default: 'disabled', choices: ['disabled', 'present', 'absent'] },
    },
  },
  query: queryModprobe,
  describe: (p) => keys(p, false),
  plan(p, s) {
    if (!s.hasModprobe) throw new ModuleFailure(`Failed to find required executable "modprobe" in paths: ${PATHS}`);
    if (typeof s.loaded === 'string') throw new ModuleFailure(s.loaded, keys(p, false));
    const load = p.state === 'present' && !s.loaded;
    const unload = p.state === 'absent' && s.loaded;
    const writes = persistentWrites(p, s);
    if (!load && !unload && writes.length === 0) return null;
    return {
      changes: { load, unload, writes },
      result: {
        diff: writes.map(([path, after]) => ({
          path,
          before: s.loadFiles.concat(s.paramFiles).find(([f]) => f === path)?.[1] ?? '',
          after,
        })),
      },
    };
  },
  async apply(ctx, p, c) {
    const name = String(p.name);
    const args = shlexSplit(String(p.params ?? ''));
    if (c.load) {
      const r = await ctx.run(`modprobe ${shellJoin([name, ...args])}`);
      if (r.rc !== 0)
        throw new ModuleFailure(r.stderr, { ...keys(p, false), rc: r.rc, stdout: r.stdout, stderr: r.stderr });
      const again = await queryModprobe(ctx, p);
      if (again.loaded !== true) {
        const w = await ctx.run(`modprobe -n --first-time ${shellJoin([name, ...args])}`);
        if (w.rc !== 0) ctx.warn(w.stderr);
      }
    }
    if (c.unload) {
      const r = await ctx.run(sh`modprobe -r ${name}`);
      if (r.rc !== 0)
        throw new ModuleFailure(r.stderr, { ...keys(p, false), rc: r.rc, stdout: r.stdout, stderr: r.stderr });
    }
    for (const [path, text] of c.writes) await writeRemote(ctx, path, text);
    return keys(p, true);
  },
});
