import type { ModuleResult } from '../core/result.js';
import {
  attributeFixes,
  fileWriteParams,
  statRemote,
  ValidationFailed,
  writeMode,
  writeRemote,
  type RemoteFile,
} from './remote-file.js';
import type { ModuleSpec, Params } from './spec.js';
import { ensureParentCmd } from './content.js';
import { commandFailed, defineStateModule, ModuleFailure, type Module } from './types.js';
import { opsCommand, type FileOp } from './file-ops.js';

/** An edit of a text file's content: lineinfile, blockinfile, sysctl's file part. */
export interface TextEdit {
  /** the new content, or null when nothing changes */
  text: string | null;
  msg: string;
  /** more result keys (lineinfile's `found`) */
  extra?: Record<string, unknown>;
  warnings?: string[];
}

export const fileAttrParams = {
  create: { type: 'bool', support: 'full', default: false },
  ...fileWriteParams,
} as const;

interface Change {
  /** new content to write, or null when only attributes change */
  text: string | null;
  attrOps: FileOp[];
}

/** Ansible's message (module_utils check_file_attrs) when mode, owner or group had to be set. */
export const ATTRS_CHANGED = 'ownership, perms or SE linux context changed';

const attrsOf = (p: Params) => ({
  mode: p.mode as string | undefined,
  owner: p.owner as string | undefined,
  group: p.group as string | undefined,
});

/** Wrap a pure `edit(params, currentText)` into a one-query, one-write module. */
export function defineTextEditModule(
  name: string,
  spec: ModuleSpec,
  edit: (p: Params, current: string | null) => TextEdit,
): Module {
  const planned = new WeakMap<RemoteFile, TextEdit>();
  const editOf = (p: Params, f: RemoteFile): TextEdit => {
    let e = planned.get(f);
    if (!e) {
      if (f.exists && f.type !== 'file') throw new ModuleFailure(`${String(p.path)} is not a regular file`);
      if (f.exists && !f.content && (f.size ?? 0) > 0)
        throw new ModuleFailure(`${String(p.path)} is too large or unreadable to edit`);
      e = edit(p, f.exists ? (f.content?.toString('utf8') ?? '') : null);
      planned.set(f, e);
    }
    return e;
  };
  return defineStateModule<RemoteFile, Change>({
    name,
    spec,
    // a symlink is edited through: its target is read and written, the link stays (as Ansible's realpath)
    query: (ctx, p) => statRemote(ctx, String(p.path), true, true),
    plan(p, f) {
      const path = String(p.path);
      const e = editOf(p, f);
      // the text can be right while mode/owner/group are not: those are fixed (and reported) too
      // a file this task creates: 0666 minus the umask, owned by the user the commands run as
      const fileAfter: RemoteFile = f.exists
        ? f
        : {
            exists: true,
            type: 'file',
            mode: (0o666 & ~(f.umask ?? 0o022)).toString(8).padStart(4, '0'),
            umask: f.umask,
            ...f.creator,
          };
      const fixes =
        e.text === null && !f.exists ? { cmds: [], diffs: [], ops: [] } : attributeFixes(path, fileAfter, attrsOf(p));
      if (e.text === null && fixes.cmds.length === 0) return null;
      if (e.text === null)
        return { changes: { text: null, attrOps: fixes.ops }, result: { msg: ATTRS_CHANGED, diff: fixes.diffs } };
      const msg = fixes.cmds.length > 0 ? `${e.msg} and ${ATTRS_CHANGED}` : e.msg;
      const result: Partial<ModuleResult> = {
        ...e.extra,
        msg,
        diff: [{ path, before: f.content?.toString('utf8') ?? '', after: e.text }, ...fixes.diffs],
        ...(e.warnings ? { warnings: e.warnings } : {}),
      };
      return { changes: { text: e.text, attrOps: [] }, result };
    },
    // lineinfile always says `backup` ('' without one), as Ansible's
    describe: (p, f) => {
      const e = f.exists || p.create ? editOf(p, f) : undefined;
      return {
        ...e?.extra,
        msg: e?.msg ?? '',
        ...(name === 'lineinfile' ? { backup: '' } : {}),
        ...(e?.warnings ? { warnings: e.warnings } : {}),
      };
    },
    async apply(ctx, p, c, f) {
      // create: yes makes the missing parent directories too (Ansible's os.makedirs)
      if (!f.exists) {
        const r = await ctx.run(ensureParentCmd(String(p.path)));
        if (r.rc !== 0) throw commandFailed(`creating the directory of ${String(p.path)}`, r);
      }
      if (c.text === null) {
        const r = await ctx.run(opsCommand(c.attrOps));
        if (r.rc !== 0) throw commandFailed(`setting attributes of ${String(p.path)}`, r);
        return {};
      }
      const { backupFile } = await writeRemote(ctx, String(p.path), c.text, {
        mode: writeMode(p.mode as string | undefined, f),
        owner: p.owner as string | undefined,
        group: p.group as string | undefined,
        backup: p.backup === true,
        validate: p.validate as string | undefined,
        throughLinks: true,
      }).catch((e: unknown) => {
        // lineinfile and blockinfile word it their own way (and return no stdout/stderr)
        if (e instanceof ValidationFailed)
          throw new ModuleFailure(`failed to validate: rc:${e.exitStatus} error:${e.stderr}`);
        throw e;
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
