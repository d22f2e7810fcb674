import { sh } from '../transport/quote.js';
import { defineConfigEditModule, type ConfigEdit } from './config-edit.js';
import type { Params } from './spec.js';
import { commandFailed, ModuleFailure, type Module } from './types.js';

// A port of community.general 6.x pam_limits, quirks included (a comment read from one line is reused for
// the next ones, a comment keeps its newline), so the file is byte-identical to Ansible's.

const ITEMS = [
  'core',
  'data',
  'fsize',
  'memlock',
  'nofile',
  'rss',
  'stack',
  'cpu',
  'nproc',
  'as',
  'maxlogins',
  'maxsyslogins',
  'priority',
  'locks',
  'sigpending',
  'msgqueue',
  'nice',
  'rtprio',
  'chroot',
];
const UNLIMITED = ['unlimited', 'infinity', '-1'];

function pyRepr(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function checkValue(item: string, value: string, prefix = ''): void {
  if (item === 'nice' || item === 'priority') {
    const n = /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!(n >= -20 && n <= 19)) {
      throw new ModuleFailure(
        `${prefix} Value of ${pyRepr(value)} for item ${pyRepr(item)} is invalid. Value must be a number in the range -20 to 19 inclusive. Refer to the limits.conf(5) manual pages for more details.`,
      );
    }
  } else if (!(UNLIMITED.includes(value) || /^\d+$/.test(value))) {
    throw new ModuleFailure(
      `${prefix} Value of ${pyRepr(value)} for item ${pyRepr(item)} is invalid. Value must either be 'unlimited', 'infinity' or -1, all of which indicate no limit, or a limit of 0 or larger. Refer to the limits.conf(5) manual pages for more details.`,
    );
  }
}

/** Pure pam_limits: the new limits.conf and the line as msg. */
export function editLimits(p: Params, current: string | null): ConfigEdit {
  const dest = String(p.dest);
  const domain = String(p.domain);
  const type = String(p.limit_type);
  const item = String(p.limit_item);
  const value = String(p.value);
  if (/[\x00-\x1f\x7f]/.test(domain))
    throw new ModuleFailure(`domain ${JSON.stringify(domain)} contains a control character`);
  if (p.use_max === true && p.use_min === true)
    throw new ModuleFailure('Cannot use use_min and use_max at the same time.');
  checkValue(item, value);
  let changed = current === null;
  let comment = typeof p.comment === 'string' ? p.comment : '';
  let message = '';
  let found = false;
  let newValue = value;
  const out: string[] = [];
  const lines = (current ?? '').split(/(?<=\n)/).filter((l) => l !== '');
  for (const line of lines) {
    if (line.startsWith('#')) {
      out.push(line);
      continue;
    }
    let nl = line.replace(/\s+/g, ' ').trim();
    if (!nl) {
      out.push(line);
      continue;
    }
    nl = nl.split('#')[0] as string;
    const hash = line.indexOf('#');
    const oldComment = hash >= 0 ? line.slice(hash + 1) : '';
    nl = nl.trimEnd();
    if (!comment) comment = oldComment;
    const fields = nl.split(' ');
    if (fields.length !== 4) {
      out.push(line);
      continue;
    }
    const [ldomain, ltype, litem, actual] = fields as [string, string, string, string];
    checkValue(litem, actual, `Invalid configuration found in '${dest}'.`);
    if (ldomain !== domain || ltype !== type || litem !== item) {
      out.push(line);
      continue;
    }
    found = true;
    if (value === actual) {
      message = line;
      out.push(line);
      continue;
    }
    const actualUnl = UNLIMITED.includes(actual);
    const valueUnl = UNLIMITED.includes(value);
    if (p.use_max === true)
      newValue = actualUnl ? actual : valueUnl ? value : String(Math.max(Number(value), Number(actual)));
    if (p.use_min === true) {
      newValue =
        actualUnl && valueUnl
          ? actual
          : actualUnl
            ? value
            : valueUnl
              ? actual
              : String(Math.min(Number(value), Number(actual)));
    }
    if (newValue !== actual) {
      changed = true;
      if (comment) comment = `\t#${comment}`;
      message = `${domain}\t${type}\t${item}\t${newValue}${comment}\n`;
      out.push(message);
    } else {
      message = line;
      out.push(line);
    }
  }
  if (!found) {
    changed = true;
    if (comment) comment = `\t#${comment}`;
    message = `${domain}\t${type}\t${item}\t${newValue}${comment}\n`;
    out.push(message);
  }
  const text = out.join('');
  return { text: changed ? text : null, result: { msg: message } };
}

const edit = defineConfigEditModule(
  'pam_limits',
  {
    params: {
      domain: { type: 'str', support: 'full', required: true },
      limit_type: { type: 'str', support: 'full', required: true, choices: ['soft', 'hard', '-'] },
      limit_item: { type: 'str', support: 'full', required: true, choices: ITEMS },
      value: { type: 'str', support: 'full', required: true },
      use_max: { type: 'bool', support: 'full', default: false },
      use_min: { type: 'bool', support: 'full', default: false },
      backup: { type: 'bool', support: 'full', default: false },
      dest: { type: 'str', support: 'full', default: '/etc/security/limits.conf' },
      comment: { type: 'str', support: 'full', default: '' },
    },
  },
  { path: (p) => String(p.dest), edit: editLimits },
);

/** Ansible backs limits.conf up whenever backup=yes, even when nothing changes (and in check mode). */
export const pamLimits: Module = {
  ...edit,
  async run(ctx, p) {
    const result = await edit.run(ctx, p);
    if (p.backup !== true || result.failed || result.backup_file !== undefined) return result;
    const r = await ctx.run(
      sh`p=${String(p.dest)}; [ -e "$p" ] || exit 0; b="$p.$(date +%Y-%m-%d@%H:%M:%S~)"; cp -p -- "$p" "$b"; echo "BACKUP|$b"`,
    );
    if (r.rc !== 0) throw commandFailed(`backing up ${String(p.dest)}`, r);
    const b = /^BACKUP\|(.*)$/m.exec(r.stdout)?.[1];
    return b ? { ...result, backup_file: b } : result;
  },
};
