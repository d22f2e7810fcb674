import { statRemote, writeRemote } from './remote-file.js';
import { ModuleFailure, type Module } from './types.js';

/** community.general.pamd, state absent: the rules matching type, control and module path removed. */
const RULE = /(-?(?:auth|account|session|password))\s+(\[.*\]|\S*)\s+(\S*)\s*(.*)\s*/;
const VALID_TYPES = ['account', '-account', 'auth', '-auth', 'password', '-password', 'session', '-session'];

interface Rule {
  type: string;
  control: string;
  path: string;
  args: string[];
}

/** A bracketed control as pamd keeps it: `[a = b c=d]` → `[a=b c=d]`. */
function normaliseControl(c: string): string {
  return c.startsWith('[') ? `[${c.replace(/ = /g, '=').replace(/[[\]]/g, '').split(' ').join(' ')}]` : c;
}

function parseRule(line: string): Rule | undefined {
  const m = RULE.exec(line);
  if (!m) return undefined;
  const args = (m[4] ?? '').match(/(\[.*\]|\S+)/g) ?? [];
  return { type: m[1] ?? '', control: normaliseControl(m[2] ?? ''), path: m[3] ?? '', args: args.map((a) => (a.startsWith('[') ? a : a.replace(/\s*=\s*/g, '='))) };
}

/** Pure: the file pamd writes after removing the matching rules, and how many it removed. */
export function pamdRemove(text: string, type: string, control: string, modulePath: string, now: string): { text: string; changes: number } {
  const lines: string[] = [];
  let changes = 0;
  for (const line of text.split('\n').slice(0, text.endsWith('\n') ? -1 : undefined)) {
    const t = line.trimStart();
    if (t.startsWith('#') || t.startsWith('@include') || line.trim() === '') {
      lines.push(line);
      continue;
    }
    const r = parseRule(line);
    if (!r) throw new ModuleFailure(`Unable to parse the PAM rule: ${line}`);
    if (r.type === type && r.control === normaliseControl(control) && r.path === modulePath) {
      changes++;
      continue;
    }
    // pamd writes every rule back in its own layout: the type padded to 11 columns
    lines.push(`${r.type.padEnd(11)}${r.control} ${r.path}${r.args.length > 0 ? ` ${r.args.join(' ')}` : ''}`);
  }
  const mark = `# Updated by Ansible - ${now}`;
  if (lines.length <= 1) lines.splice(0, 0, '', mark);
  else if (lines[1]?.startsWith('# Updated by Ansible')) lines[1] = mark;
  else lines.splice(1, 0, mark);
  return { text: `${lines.join('\n')}\n`, changes };
}

/** Python's datetime.now().isoformat(): local time with microseconds. */
function isoNow(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

export const pamd: Module = {
  name: 'pamd',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true },
      type: { type: 'str', support: 'full', required: true, choices: VALID_TYPES },
      control: { type: 'str', support: 'full', required: true },
      module_path: { type: 'str', support: 'full', required: true },
      state: { type: 'str', support: 'partial', note: 'absent only', default: 'updated', choices: ['absent', 'after', 'args_absent', 'args_present', 'before', 'updated'] },
      new_type: { type: 'str', support: 'none', note: 'pamd: state absent only', choices: VALID_TYPES },
      new_control: { type: 'str', support: 'none', note: 'pamd: state absent only' },
      new_module_path: { type: 'str', support: 'none', note: 'pamd: state absent only' },
      module_arguments: { type: 'list', support: 'none', note: 'pamd: state absent only', elements: 'str' },
      path: { type: 'path', support: 'full', default: '/etc/pam.d' },
      backup: { type: 'bool', support: 'full', default: false },
    },
  },
  async run(ctx, p) {
    if (p.state !== 'absent') throw new ModuleFailure(`pamd: state ${String(p.state)} is not implemented by orch (absent only)`);
    const file = `${String(p.path).replace(/\/+$/, '')}/${String(p.name)}`;
    const f = await statRemote(ctx, file, true, true);
    if (!f.exists || !f.content) throw new ModuleFailure(`Unable to open/read PAM module file ${file} with error [Errno 2] No such file or directory: '${file}'.`);
    const { text, changes } = pamdRemove(f.content.toString('utf8'), String(p.type), String(p.control), String(p.module_path), isoNow());
    const result = { changed: changes > 0, change_count: changes, backupdest: '' };
    if (changes === 0 || ctx.check) return result;
    const { backupFile } = await writeRemote(ctx, file, text, { backup: p.backup === true });
    return { ...result, backupdest: backupFile ?? '' };
  },
};
