import { sh } from '../transport/quote.js';
import { statRemote, writeRemote } from './remote-file.js';
import type { Params } from './spec.js';
import { joinLines, splitLines } from './text-edit.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';
import { accountName, noControlChars, singleField } from './validate.js';

interface CronState {
  text: string;
  exists: boolean;
}

function cronFilePath(p: Params): string | undefined {
  if (!p.cron_file) return undefined;
  const f = String(p.cron_file);
  return f.startsWith('/') ? f : `/etc/cron.d/${f}`;
}

/** Every value lands in one line of a crontab: none may add a line, and a schedule field or user is one word. */
function checkCronValues(p: Params): void {
  noControlChars('cron', 'name', p.name);
  if (p.env) singleField('cron', 'name', p.name);
  if (p.job !== undefined && p.job !== null) noControlChars('cron', 'job', p.job);
  for (const k of ['minute', 'hour', 'day', 'month', 'weekday'] as const)
    if (p[k] !== undefined) singleField('cron', k, p[k]);
  if (p.user !== undefined) accountName('cron', 'user', p.user);
  if (p.cron_file !== undefined) noControlChars('cron', 'cron_file', p.cron_file);
}

/** Pure: the crontab text with the named entry set or removed (entries are marked `#Ansible: NAME`). */
export function editCron(text: string, p: Params, inCronD: boolean): string | null {
  checkCronValues(p);
  const name = String(p.name);
  const marker = `#Ansible: ${name}`;
  const lines = splitLines(text);
  let entry: string[] = [];
  if (p.state !== 'absent') {
    if (p.env) entry = [marker, `${name}=${String(p.job)}`];
    else {
      if (p.job === undefined || p.job === null) throw new ModuleFailure('job is required with state=present');
      const when = p.special_time
        ? `@${String(p.special_time)}`
        : [p.minute, p.hour, p.day, p.month, p.weekday].map(String).join(' ');
      const user = inCronD ? ` ${String(p.user ?? 'root')}` : '';
      entry = [marker, `${p.disabled ? '#' : ''}${when}${user} ${String(p.job)}`];
    }
  }
  const out: string[] = [];
  let placed = false;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === marker) {
      i++; // the job line under the marker belongs to the entry
      if (!placed) out.push(...entry);
      placed = true;
      continue;
    }
    out.push(lines[i] as string);
  }
  if (!placed) {
    if (entry.length > 0 && p.env && p.insertafter === undefined) out.unshift(...entry);
    else out.push(...entry);
  }
  const next = joinLines(out);
  return next === text ? null : next;
}

async function queryCron(ctx: ModuleContext, p: Params): Promise<CronState> {
  checkCronValues(p);
  const file = cronFilePath(p);
  if (file) {
    const f = await statRemote(ctx, file, true);
    return { text: f.content?.toString('utf8') ?? '', exists: f.exists };
  }
  const r = await ctx.run(sh`crontab -l -u ${String(p.user ?? 'root')} 2>/dev/null || true`);
  return { text: r.stdout, exists: r.stdout !== '' };
}

export const cron = defineStateModule<CronState, string>({
  name: 'cron',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true },
      job: { type: 'str', support: 'full', aliases: ['value'] },
      minute: { type: 'str', support: 'full', default: '*' },
      hour: { type: 'str', support: 'full', default: '*' },
      day: { type: 'str', support: 'full', default: '*', aliases: ['dom'] },
      month: { type: 'str', support: 'full', default: '*' },
      weekday: { type: 'str', support: 'full', default: '*', aliases: ['dow'] },
      special_time: {
        type: 'str',
        support: 'full',
        choices: ['annually', 'daily', 'hourly', 'monthly', 'reboot', 'weekly', 'yearly'],
      },
      user: { type: 'str', support: 'full' },
      cron_file: { type: 'str', support: 'full' },
      state: { type: 'str', support: 'full', default: 'present', choices: ['present', 'absent'] },
      disabled: { type: 'bool', support: 'full', default: false },
      env: { type: 'bool', support: 'full', default: false },
      insertafter: { type: 'str', support: 'full' },
      backup: { type: 'bool', support: 'none', note: 'no backup of the crontab is made', default: false },
    },
  },
  query: queryCron,
  plan(p, s) {
    const file = cronFilePath(p);
    if (file && p.state === 'absent' && !s.exists) return null;
    const next = editCron(s.text, p, file !== undefined);
    if (next === null) return null;
    return {
      changes: next,
      result: { diff: [{ path: file ?? `crontab of ${String(p.user ?? 'root')}`, before: s.text, after: next }] },
    };
  },
  async apply(ctx, p, next) {
    const file = cronFilePath(p);
    if (file) {
      // cron ignores /etc/cron.d files that are group/other writable: 0644 always.
      if (next.trim() === '' && p.state === 'absent') {
        const r = await ctx.run(sh`rm -f -- ${file}`);
        if (r.rc !== 0) throw commandFailed(`removing ${file}`, r);
      } else await writeRemote(ctx, file, next, { mode: '0644', throughLinks: true });
      return;
    }
    const r = await ctx.run(sh`crontab -u ${String(p.user ?? 'root')} -`, { stdin: next });
    if (r.rc !== 0) throw commandFailed('crontab', r);
  },
});
