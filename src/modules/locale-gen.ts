import { sh } from '../transport/quote.js';
import { pythonSubn } from './pyregex.js';
import { writeRemote } from './remote-file.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// community.general 6.x locale_gen: Debian edits /etc/locale.gen and runs locale-gen; Ubuntu (a
// /var/lib/locales/supported.d/ directory) runs `locale-gen NAME` or drops it and purges.

const NORMALIZATION: [string, string][] = [
  ['.utf8', '.UTF-8'],
  ['.eucjp', '.EUC-JP'],
  ['.iso885915', '.ISO-8859-15'],
  ['.cp1251', '.CP1251'],
  ['.koi8r', '.KOI8-R'],
  ['.armscii8', '.ARMSCII-8'],
  ['.euckr', '.EUC-KR'],
  ['.gbk', '.GBK'],
  ['.gb18030', '.GB18030'],
  ['.euctw', '.EUC-TW'],
];

/** `locale -a` prints en_US.utf8 for en_US.UTF-8: compare names as Ansible does. */
export function fixCase(name: string): string {
  let n = name;
  for (const [s, r] of NORMALIZATION) n = n.split(s).join(r);
  return n;
}

export interface LocaleState {
  ubuntu: boolean;
  /** /etc/locale.gen (Debian) or /usr/share/i18n/SUPPORTED (Ubuntu); null when neither layout exists */
  list: string | null;
  /** `locale -a` */
  installed: string[];
  /** /var/lib/locales/supported.d/local on Ubuntu */
  local?: string;
}

export function isAvailable(name: string, s: LocaleState): boolean {
  const re = s.ubuntu ? /^(\S+_\S+) (\S+)\s*$/ : /^#?\s*(\S+_\S+) (\S+)\s*$/;
  return (s.list ?? '').split(/(?<=\n)/).some((l) => re.exec(l.replace(/\n$/, ''))?.[1] === name);
}

/** Pure: /etc/locale.gen with the locale's line enabled or commented out (Ansible's unescaped re.sub per line). */
export function setLocaleLine(text: string, name: string, enabled: boolean): string {
  const search = `#{0,1}\\s*${name} (?P<charset>.+)`;
  const repl = enabled ? `${name} \\g<charset>` : `# ${name} \\g<charset>`;
  return text
    .split(/(?<=\n)/)
    .map((l) => pythonSubn(search, repl, l)[0])
    .join('');
}

async function queryLocale(ctx: ModuleContext): Promise<LocaleState> {
  const script = [
    'if [ -d /var/lib/locales/supported.d/ ]; then echo UBUNTU; f=/usr/share/i18n/SUPPORTED; elif [ -e /etc/locale.gen ]; then f=/etc/locale.gen; else f=; fi',
    'echo "@FILE|$f"; echo @LIST; [ -n "$f" ] && base64 -w0 < "$f"; echo',
    'echo @LOCAL; [ -f /var/lib/locales/supported.d/local ] && base64 -w0 < /var/lib/locales/supported.d/local; echo',
    'echo @INSTALLED; locale -a 2>/dev/null; true',
  ].join('\n');
  const r = await ctx.run(script);
  if (r.rc !== 0) throw commandFailed('reading locales', r);
  const out = r.stdout;
  const section = (tag: string) => out.split(`@${tag}\n`)[1]?.split('\n@')[0] ?? '';
  const ubuntu = out.startsWith('UBUNTU\n');
  const hasList = !/^@FILE\|$/m.test(out);
  return {
    ubuntu,
    list: hasList ? Buffer.from(section('LIST').trim(), 'base64').toString('utf8') : null,
    local: Buffer.from(section('LOCAL').trim(), 'base64').toString('utf8'),
    installed: section('INSTALLED')
      .split('\n')
      .filter((l) => l !== ''),
  };
}

export const localeGen = defineStateModule<LocaleState, { present: boolean }>({
  name: 'locale_gen',
  spec: {
    params: {
      name: { type: 'str', support: 'full', required: true },
      state: { type: 'str', support: 'full', default: 'present', choices: ['absent', 'present'] },
    },
  },
  query: (ctx) => queryLocale(ctx),
  describe: (p) => ({ name: p.name, msg: 'OK' }),
  plan(p: Params, s) {
    const name = String(p.name);
    if (/[\x00-\x1f\x7f]/.test(name) || name.startsWith('-'))
      throw new ModuleFailure(`invalid locale name ${JSON.stringify(name)}`);
    if (s.list === null && !s.ubuntu)
      throw new ModuleFailure(
        '/etc/locale.gen and /var/lib/locales/supported.d/local are missing. Is the package "locales" installed?',
      );
    if (!isAvailable(name, s)) throw new ModuleFailure("The locale you've entered is not available on your system.");
    const present = s.installed.some((l) => fixCase(l) === fixCase(name));
    const want = p.state !== 'absent';
    return present === want ? null : { changes: { present: want } };
  },
  async apply(ctx, p, c, s) {
    const name = String(p.name);
    let cmd: string;
    if (!s.ubuntu) {
      await writeRemote(ctx, '/etc/locale.gen', setLocaleLine(s.list ?? '', name, c.present));
      cmd = 'locale-gen';
    } else if (c.present) {
      cmd = sh`locale-gen ${name}`;
    } else {
      const kept = (s.local ?? '').split(/(?<=\n)/).filter((l) => l !== '' && l.split(' ')[0] !== name);
      await writeRemote(ctx, '/var/lib/locales/supported.d/local', kept.join(''));
      cmd = 'locale-gen --purge';
    }
    const r = await ctx.run(cmd);
    if (r.rc !== 0)
      throw new ModuleFailure(`[Errno ${r.rc}] locale.gen failed to execute, it returned ${r.rc}`, { exitValue: r.rc });
  },
});
