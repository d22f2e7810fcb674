import type { FileDiff, ModuleResult } from '../core/result.js';
import { parsePathInfo, pathInfoScript } from './path-info.js';
import { attributeFixes, parseStat, statRemote, statScript, writeRemote, type RemoteFile } from './remote-file.js';
import type { ModuleSpec, Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type Module } from './types.js';
import { opsCommand, type FileOp } from './file-ops.js';

/** What a config-file module decides from the current text: the new text (null: unchanged) and its result keys. */
export interface ConfigEdit {
  text: string | null;
  /** keys on every result (msg, path...) */
  result: Partial<ModuleResult>;
}

interface Change {
  text: string | null;
  attrOps: FileOp[];
}

export interface ConfigEditOptions {
  path: (p: Params) => string;
  edit: (p: Params, current: string | null) => ConfigEdit;
  /** create the parent directory of a new file (ini_file, authorized_key's manage_dir is its own) */
  makeParent?: boolean;
  /** the result has Ansible's path info (read with the query: see path-info.ts) */
  pathInfo?: boolean;
}

/**
 * A module that edits one text file as Ansible's config modules do: the content edit, then mode/owner/group
 * set when they differ (a change even when the text is the same, as set_fs_attributes_if_different).
 */
export function defineConfigEditModule(name: string, spec: ModuleSpec, o: ConfigEditOptions): Module {
  const edits = new WeakMap<RemoteFile, ConfigEdit>();
  const infos = new WeakMap<RemoteFile, Partial<ModuleResult>>();
  const editOf = (p: Params, f: RemoteFile): ConfigEdit => {
    let e = edits.get(f);
    if (!e) {
      if (f.exists && f.type !== 'file') throw new ModuleFailure(`${o.path(p)} is not a regular file`);
      if (f.exists && !f.content && (f.size ?? 0) > 0)
        throw new ModuleFailure(`${o.path(p)} is too large or unreadable to edit`);
      e = o.edit(p, f.exists ? (f.content?.toString('utf8') ?? '') : null);
      edits.set(f, e);
    }
    return e;
  };
  const attrs = (p: Params) => ({
    mode: p.mode as string | undefined,
    owner: p.owner as string | undefined,
    group: p.group as string | undefined,
  });
  return defineStateModule<RemoteFile, Change>({
    name,
    spec,
    async query(ctx, p) {
      const path = o.path(p);
      if (!o.pathInfo) return statRemote(ctx, path, true);
      // the stat probe as shell text, with the path info behind it: one round trip
      const r = await ctx.run(`${statScript(path, true)}\n${pathInfoScript(path)}`);
      if (r.rc !== 0) throw commandFailed(`reading ${path}`, r);
      const f = parseStat(r.stdout);
      const info = parsePathInfo(r.stdout);
      if (info) infos.set(f, info);
      return f;
    },
    describe: (p, f) => ({ ...editOf(p, f).result, ...(infos.get(f) ?? {}) }),
    plan(p, f) {
      const e = editOf(p, f);
      const path = o.path(p);
      const fixes = e.text === null && f.exists ? attributeFixes(path, f, attrs(p)) : { cmds: [], diffs: [], ops: [] };
      if (e.text === null && fixes.cmds.length === 0) return null;
      const diff: FileDiff[] = [...fixes.diffs];
      if (e.text !== null) diff.unshift({ path, before: f.content?.toString('utf8') ?? '', after: e.text });
      return { changes: { text: e.text, attrOps: fixes.ops }, result: { diff } };
    },
    async apply(ctx, p, c, f) {
      const path = o.path(p);
      if (c.text === null) {
        const r = await ctx.run(opsCommand(c.attrOps));
        if (r.rc !== 0) throw commandFailed(`setting attributes of ${path}`, r);
        return {};
      }
      if (!f.exists && o.makeParent) {
        const r = await ctx.run(opsCommand([{ op: 'mkdirParent', path }]));
        if (r.rc !== 0) throw commandFailed(`creating the directory of ${path}`, r);
      }
      const { backupFile } = await writeRemote(ctx, path, c.text, { ...attrs(p), backup: p.backup === true });
      return backupFile ? { backup_file: backupFile } : {};
    },
  });
}

/** Python's universal-newline read of a text file, as `readlines()` returns it (each line keeps its '\n'). */
export function pyReadLines(text: string): string[] {
  const t = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const out = t.split(/(?<=\n)/);
  return out.length === 1 && out[0] === '' ? [] : out;
}

/** Python's re.escape (3.7+): escapes only special characters. */
export function pyEscape(s: string): string {
  return s.replace(/[.^$*+?{}[\]\\|()#&~\s-]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\${c}`));
}
