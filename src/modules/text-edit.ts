import type { ModuleResult } from '../core/result.js';
import { fileWriteParams, statRemote, writeRemote, type RemoteFile } from './remote-file.js';
import type { ModuleSpec, Params } from './spec.js';
import { defineStateModule, ModuleFailure, type Module } from './types.js';

/** An edit of a text file's content: lineinfile, blockinfile, sysctl's file part. */
export interface TextEdit {
  /** the new content, or null when nothing changes */
  text: string | null;
  msg: string;
}

export const fileAttrParams = {
  create: { type: 'bool', support: 'full', default: false },
  ...fileWriteParams,
} as const;

interface Change {
  text: string;
}

/** Wrap a pure `edit(params, currentText)` into a one-query, one-write module. */
export function defineTextEditModule(name: string, spec: ModuleSpec, edit: (p: Params, current: string | null) => TextEdit): Module {
  const planned = new WeakMap<RemoteFile, TextEdit>();
  const editOf = (p: Params, f: RemoteFile): TextEdit => {
    let e = planned.get(f);
    if (!e) {
      if (f.exists && f.type !== 'file') throw new ModuleFailure(`${String(p.path)} is not a regular file`);
      if (f.exists && !f.content && (f.size ?? 0) > 0) throw new ModuleFailure(`${String(p.path)} is too large or unreadable to edit`);
      e = edit(p, f.exists ? (f.content?.toString('utf8') ?? '') : null);
      planned.set(f, e);
    }
    return e;
  };
  return defineStateModule<RemoteFile, Change>({
    name,
    spec,
    query: (ctx, p) => statRemote(ctx, String(p.path), true),
    plan(p, f) {
      const e = editOf(p, f);
      if (e.text === null) return null;
      const result: Partial<ModuleResult> = { msg: e.msg, diff: [{ path: String(p.path), before: f.content?.toString('utf8') ?? '', after: e.text }] };
      return { changes: { text: e.text }, result };
    },
    describe: (p, f) => ({ msg: f.exists || p.create ? editOf(p, f).msg : '' }),
    async apply(ctx, p, c) {
      const { backupFile } = await writeRemote(ctx, String(p.path), c.text, {
        mode: p.mode as string | undefined,
        owner: p.owner as string | undefined,
        group: p.group as string | undefined,
        backup: p.backup === true,
        validate: p.validate as string | undefined,
      });
      return backupFile ? { backup: backupFile, backup_file: backupFile } : {};
    },
  });
}

export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function joinLines(lines: string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
