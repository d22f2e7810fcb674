import { parseArgs, VALID_TYPES } from './pam-rule.js';
import { PamService } from './pam-service.js';
import { statRemote, writeRemote } from './remote-file.js';
import { ModuleFailure, type Module } from './types.js';
import type { Params } from './spec.js';

/** community.general.pamd: every state, with the Python module's edits and file layout (see pam-service.ts). */

/** Pure: the file pamd writes for these parameters, and its change count (0: the file stays as it is). */
export function pamdEdit(text: string, p: Params, now: string): { text: string; changes: number } {
  const service = new PamService(text);
  const [type, control, path] = [String(p.type), String(p.control), String(p.module_path)];
  const to = {
    type: p.new_type as string | undefined,
    control: p.new_control as string | undefined,
    path: p.new_module_path as string | undefined,
    args: p.module_arguments,
  };
  let changes: number;
  switch (p.state) {
    case 'updated':
      changes = service.update(type, control, path, to);
      break;
    case 'before':
      changes = service.insertBefore(type, control, path, to);
      break;
    case 'after':
      changes = service.insertAfter(type, control, path, to);
      break;
    case 'args_absent':
      changes = service.removeArgs(type, control, path, p.module_arguments);
      break;
    case 'args_present':
      if (parseArgs(p.module_arguments).some((a) => a.startsWith('[')))
        throw new ModuleFailure(
          "Unable to process bracketed '[' complex arguments with 'args_present'. Please use 'updated'.",
        );
      changes = service.addArgs(type, control, path, p.module_arguments);
      break;
    default:
      changes = service.remove(type, control, path);
  }
  const [valid, msg] = service.validate();
  if (!valid) throw new ModuleFailure(msg);
  return { text: service.render(now), changes };
}

/** pamd absent (kept for callers of the first version). */
export function pamdRemove(
  text: string,
  type: string,
  control: string,
  modulePath: string,
  now: string,
): { text: string; changes: number } {
  return pamdEdit(text, { state: 'absent', type, control, module_path: modulePath }, now);
}

/** Python's datetime.now().isoformat(): local time with microseconds. */
function isoNow(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

/** Ansible's required_if for pamd. */
const REQUIRED: Record<string, string[]> = {
  args_present: ['module_arguments'],
  args_absent: ['module_arguments'],
  before: ['new_control', 'new_type', 'new_module_path'],
  after: ['new_control', 'new_type', 'new_module_path'],
};

export const pamd: Module = {
  name: 'pamd',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true },
      type: { type: 'str', support: 'full', required: true, choices: VALID_TYPES },
      control: { type: 'str', support: 'full', required: true },
      module_path: { type: 'str', support: 'full', required: true },
      state: {
        type: 'str',
        support: 'full',
        default: 'updated',
        choices: ['absent', 'after', 'args_absent', 'args_present', 'before', 'updated'],
      },
      new_type: { type: 'str', support: 'full', choices: VALID_TYPES },
      new_control: { type: 'str', support: 'full' },
      new_module_path: { type: 'str', support: 'full' },
      module_arguments: { type: 'list', support: 'full', elements: 'str' },
      path: { type: 'path', support: 'full', default: '/etc/pam.d' },
      backup: { type: 'bool', support: 'full', default: false },
    },
  },
  async run(ctx, p) {
    const missing = (REQUIRED[String(p.state)] ?? []).filter((k) => p[k] === undefined || p[k] === null);
    if (missing.length > 0)
      throw new ModuleFailure(
        `state is ${String(p.state)} but all of the following are missing: ${missing.join(', ')}`,
      );
    const file = `${String(p.path).replace(/\/+$/, '')}/${String(p.name)}`;
    const f = await statRemote(ctx, file, true, true);
    if (!f.exists || !f.content)
      throw new ModuleFailure(
        `Unable to open/read PAM module file ${file} with error [Errno 2] No such file or directory: '${file}'.`,
      );
    const { text, changes } = pamdEdit(f.content.toString('utf8'), p, isoNow());
    const result = { changed: changes > 0, change_count: changes, backupdest: '' };
    if (changes === 0 || ctx.check) return result;
    const { backupFile } = await writeRemote(ctx, file, text, { backup: p.backup === true });
    return { ...result, backupdest: backupFile ?? '' };
  },
};
