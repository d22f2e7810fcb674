import type { ModuleResult } from '../core/result.js';
import { shellJoin } from '../transport/quote.js';
import { shlexSplit } from './shlex.js';
import type { Params } from './spec.js';
import { ModuleFailure, type Module, type ModuleContext } from './types.js';

// community.general.ufw (6.x): the same ufw command lines (kept in `commands`), run as Ansible runs them
// (a string split like shlex, never through a shell), changed from `ufw status verbose` and the
// `### tuple` lines of the rules files before and after, --dry-run in check mode.

const SBIN = 'PATH="$PATH:/sbin:/usr/sbin:/usr/local/sbin"';
const PATHS = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const RULE_FILES = [
  '/lib/ufw/user.rules',
  '/lib/ufw/user6.rules',
  '/etc/ufw/user.rules',
  '/etc/ufw/user6.rules',
  '/var/lib/ufw/user.rules',
  '/var/lib/ufw/user6.rules',
];
const IPV4 = /((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])/;
// the module's IPv6 pattern, as Python's re.search/match use it
const IPV6 = new RegExp(
  '(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}' +
    '(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]' +
    '{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4})' +
    '{0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}' +
    '[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))',
);
const startsWith = (re: RegExp, s: string) => re.exec(s)?.index === 0;

/** Python's splitlines(True). */
const linesOf = (text: string) => text.split(/(?<=\n)/).filter((l) => l !== '');
const keep = (text: string, f: (l: string) => boolean) => linesOf(text).filter(f).join('');

/** One part of Ansible's command: kept when its condition is truthy; the last element is the text. */
type Part = [unknown, string] | [string];
const joinParts = (parts: Part[]) =>
  parts
    .filter((p) => !!p[0])
    .map((p) => p[p.length - 1])
    .join(' ');

interface Runner {
  cmds: string[];
  exec(parts: Part[], ignoreError?: boolean): Promise<string>;
}

function runner(ctx: ModuleContext): Runner {
  const cmds: string[] = [];
  return {
    cmds,
    async exec(parts, ignoreError = false) {
      const line = joinParts(parts);
      cmds.push(line);
      let argv: string[];
      try {
        argv = shlexSplit(line);
      } catch (err) {
        throw new ModuleFailure(`${(err as Error).message} in ${line}`, { commands: cmds });
      }
      const r = await ctx.run(`LANG=C ${shellJoin(argv)}`);
      if (r.rc !== 0 && !ignoreError) throw new ModuleFailure(r.stderr || r.stdout, { commands: cmds });
      return r.stdout;
    },
  };
}

/** What changed for `logging` (from `ufw status verbose`), as the module decides it. */
export function loggingChanged(value: string, preState: string): boolean {
  const m = /Logging: (on|off)(?: \(([a-z]+)\))?/.exec(preState);
  if (!m) return true;
  const [, onOff, level] = m;
  if (value !== 'off') return onOff === 'off' || (value !== 'on' && value !== level);
  return onOff !== 'off';
}

/** check mode: would `default` change the policy of the direction. */
export function defaultChanged(value: string, direction: string | undefined, preState: string): boolean {
  const m =
    /Default: (deny|allow|reject) \(incoming\), (deny|allow|reject) \(outgoing\), (deny|allow|reject|disabled) \(routed\)/.exec(
      preState,
    );
  if (!m) return true;
  const current: Record<string, string | undefined> = { incoming: m[1], outgoing: m[2], routed: m[3] };
  const v = current[direction ?? 'incoming'];
  return v !== value && v !== 'disabled';
}

/** check mode: would the dry-run's rules differ from the current ones. */
export function ruleChanged(p: Params, preRules: string, dry: string): boolean {
  const lines = linesOf(dry);
  const skipping = lines.filter((l) => l.includes('Skipping')).length;
  if (skipping > 0 && skipping === lines.length) return false;
  const rules = keep(dry, (l) => l.startsWith('### tuple'));
  const from = String(p.from_ip ?? 'any');
  const to = String(p.to_ip ?? 'any');
  const only = (re: RegExp, t: string) => keep(t, (l) => re.test(l));
  if (startsWith(IPV4, from) || startsWith(IPV4, to)) return only(IPV4, preRules) !== only(IPV4, rules);
  if (startsWith(IPV6, from) || startsWith(IPV6, to)) return only(IPV6, preRules) !== only(IPV6, rules);
  return preRules !== rules;
}

/** insert_relative_to other than zero: the rule number from `ufw status numbered`. */
function insertNumber(p: Params, numbered: string): number | undefined {
  const rel = String(p.insert_relative_to);
  const insert = Number(p.insert);
  if (rel === 'zero') return insert;
  const lines = numbered.split('\n').flatMap((l) => {
    const m = /^\[ *([0-9]+)\] /.exec(l);
    return m ? [{ no: Number(m[1]), v6: l.includes('(v6)') }] : [];
  });
  const last = Math.max(0, ...lines.map((l) => l.no));
  const v4 = lines.filter((l) => !l.v6).map((l) => l.no);
  const hasV6 = lines.some((l) => l.v6);
  const relativeTo =
    rel === 'first-ipv4'
      ? 1
      : rel === 'last-ipv4'
        ? v4.length
          ? Math.max(...v4)
          : 1
        : rel === 'first-ipv6'
          ? v4.length
            ? Math.max(...v4) + 1
            : 1
          : hasV6
            ? last
            : last + 1;
  const at = insert + relativeTo;
  return at > last ? undefined : at;
}

function ruleParts(p: Params, bin: string, check: boolean, insertTo: number | undefined, comment: boolean): Part[] {
  const v = (k: string) => (p[k] === undefined || p[k] === null ? undefined : String(p[k]));
  const parts: Part[] = [[bin], [check, '--dry-run'], [p.route === true, 'route'], [p.delete === true, 'delete']];
  if (p.insert !== undefined && p.insert !== null && p.delete !== true)
    parts.push([insertTo !== undefined, `insert ${insertTo}`]);
  parts.push(
    [String(p.rule)],
    [v('direction'), `${v('direction')}`],
    [v('interface'), `on ${v('interface')}`],
    [v('interface_in'), `in on ${v('interface_in')}`],
  );
  parts.push([v('interface_out'), `out on ${v('interface_out')}`], [p.log === true, 'log']);
  for (const [key, template] of [
    ['from_ip', 'from %s'],
    ['from_port', 'port %s'],
    ['to_ip', 'to %s'],
    ['to_port', 'port %s'],
    ['proto', 'proto %s'],
    ['name', "app '%s'"],
  ] as const) {
    parts.push([v(key), template.replace('%s', v(key) ?? '')]);
  }
  if (comment) parts.push([v('comment'), `comment '${v('comment')}'`]);
  return parts;
}

async function runUfw(ctx: ModuleContext, p: Params): Promise<ModuleResult> {
  const find = await ctx.run(`${SBIN}; command -v ufw || echo; command -v grep || echo`);
  const [ufw = '', grep = ''] = find.stdout.split('\n');
  if (!ufw) throw new ModuleFailure(`Failed to find required executable "ufw" in paths: ${PATHS}`);
  if (!grep) throw new ModuleFailure(`Failed to find required executable "grep" in paths: ${PATHS}`);
  const r = runner(ctx);
  const currentRules = () => r.exec([[grep], ['-h'], ["'^### tuple'"], ...RULE_FILES.map((f) => [f] as Part)], true);
  const preState = await r.exec([[ufw], ['status verbose']]);
  const preRules = await currentRules();
  let changed = false;
  const base: Part[] = [[ufw], [ctx.check, '--dry-run']];
  for (const command of ['state', 'default', 'rule', 'logging'] as const) {
    const value = p[command];
    if (!value) continue;
    const val = String(value);
    if (command === 'state') {
      if (val === 'reloaded' || val === 'reset') changed = true;
      const states: Record<string, string> = {
        enabled: 'enable',
        disabled: 'disable',
        reloaded: 'reload',
        reset: 'reset',
      };
      if (ctx.check) {
        // "active" would also match "inactive", hence the space
        const enabled = preState.includes(' active');
        if ((val === 'disabled' && enabled) || (val === 'enabled' && !enabled)) changed = true;
      } else await r.exec([...base, ['-f'], [states[val] as string]]);
    } else if (command === 'logging') {
      if (loggingChanged(val, preState)) changed = true;
      if (!ctx.check) await r.exec([...base, [command], [val]]);
    } else if (command === 'default') {
      const dir = p.direction === undefined || p.direction === null ? undefined : String(p.direction);
      if (dir !== undefined && !['outgoing', 'incoming', 'routed'].includes(dir)) {
        throw new ModuleFailure(
          'For default, direction must be one of "outgoing", "incoming" and "routed", or direction must not be specified.',
        );
      }
      if (ctx.check) {
        if (defaultChanged(val, dir, preState)) changed = true;
      } else await r.exec([...base, [command], [val], [dir ?? '']]);
    } else {
      if (p.direction !== undefined && p.direction !== null && !['in', 'out'].includes(String(p.direction))) {
        throw new ModuleFailure(
          'For rules, direction must be one of "in" and "out", or direction must not be specified.',
        );
      }
      if (p.route !== true && p.interface_in && p.interface_out)
        throw new ModuleFailure('Only route rules can combine interface_in and interface_out');
      let insertTo: number | undefined;
      if (p.insert !== undefined && p.insert !== null && p.delete !== true) {
        const numbered =
          String(p.insert_relative_to) === 'zero'
            ? ''
            : (await ctx.run(`LANG=C ${shellJoin([ufw, 'status', 'numbered'])}`)).stdout;
        insertTo = insertNumber(p, numbered);
      }
      const version = /^ufw.+(\d+)\.(\d+)(?:\.(\d+))?.*$/m.exec(
        (await r.exec([[ufw], ['--version']])).split('\n').find((l) => l.trim() !== '') ?? '',
      );
      if (!version) throw new ModuleFailure('Failed to get ufw version.', { rc: 0 });
      const [major, minor] = [Number(version[1]), Number(version[2])];
      const dry = await r.exec(ruleParts(p, ufw, ctx.check, insertTo, (major === 0 && minor >= 35) || major > 0));
      if (ctx.check && ruleChanged(p, preRules, dry)) changed = true;
    }
  }
  if (ctx.check) return { changed, commands: r.cmds };
  const postState = await r.exec([[ufw], ['status'], ['verbose']]);
  if (!changed) changed = preState !== postState || preRules !== (await currentRules());
  return { changed, commands: r.cmds, msg: postState.trimEnd() };
}

export const ufw: Module = {
  name: 'ufw',
  spec: {
    params: {
      state: { type: 'str', support: 'full', choices: ['enabled', 'disabled', 'reloaded', 'reset'] },
      default: { type: 'str', support: 'full', aliases: ['policy'], choices: ['allow', 'deny', 'reject'] },
      logging: { type: 'str', support: 'full', choices: ['full', 'high', 'low', 'medium', 'off', 'on'] },
      direction: { type: 'str', support: 'full', choices: ['in', 'incoming', 'out', 'outgoing', 'routed'] },
      delete: { type: 'bool', support: 'full', default: false },
      route: { type: 'bool', support: 'full', default: false },
      insert: { type: 'int', support: 'full' },
      insert_relative_to: {
        type: 'str',
        support: 'full',
        default: 'zero',
        choices: ['zero', 'first-ipv4', 'last-ipv4', 'first-ipv6', 'last-ipv6'],
      },
      rule: { type: 'str', support: 'full', choices: ['allow', 'deny', 'limit', 'reject'] },
      interface: { type: 'str', support: 'full', aliases: ['if'] },
      interface_in: { type: 'str', support: 'full', aliases: ['if_in'] },
      interface_out: { type: 'str', support: 'full', aliases: ['if_out'] },
      log: { type: 'bool', support: 'full', default: false },
      from_ip: { type: 'str', support: 'full', default: 'any', aliases: ['from', 'src'] },
      from_port: { type: 'str', support: 'full' },
      to_ip: { type: 'str', support: 'full', default: 'any', aliases: ['dest', 'to'] },
      to_port: { type: 'str', support: 'full', aliases: ['port'] },
      proto: {
        type: 'str',
        support: 'full',
        aliases: ['protocol'],
        choices: ['ah', 'any', 'esp', 'ipv6', 'tcp', 'udp', 'gre', 'igmp'],
      },
      name: { type: 'str', support: 'full', aliases: ['app'] },
      comment: { type: 'str', support: 'full' },
    },
    mutuallyExclusive: [
      ['name', 'proto', 'logging'],
      ['direction', 'interface_in'],
      ['direction', 'interface_out'],
    ],
    requiredOneOf: [['state', 'default', 'rule', 'logging']],
  },
  async run(ctx, p) {
    if (p.interface && !p.direction) throw new ModuleFailure("missing parameter(s) required by 'interface': direction");
    return runUfw(ctx, p);
  },
};
