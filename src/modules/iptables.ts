import type { ModuleResult } from '../core/result.js';
import { shellJoin } from '../transport/quote.js';
import type { ExecResult } from '../transport/types.js';
import { constructRule, str } from './iptables-rule.js';
import type { ModuleSpec, Params } from './spec.js';
import { defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// ansible.builtin.iptables (2.14): the rule built as Ansible does (iptables-rule.ts), its presence
// asked of `iptables -C` as Ansible does, the same result keys and changed decisions.

const SBIN = 'PATH="$PATH:/sbin:/usr/sbin:/usr/local/sbin"';
const PATHS = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BINS: Record<string, string> = { ipv4: 'iptables', ipv6: 'ip6tables' };

/** push_arguments: [bin, -t table, action chain (rule_num), rule...] */
function command(p: Params, action: string, withRule = true): string[] {
  const cmd = [BINS[String(p.ip_version)] ?? 'iptables', '-t', String(p.table), action, str(p.chain) ?? ''];
  if (action === '-I' && str(p.rule_num)) cmd.push(String(p.rule_num));
  return withRule ? [...cmd, ...constructRule(p)] : cmd;
}

const run = (argv: string[]) => `${SBIN} ${shellJoin(argv)}`;

export interface IptablesState {
  /** the params as the commands use them (jump LOG for logging options, wait per the iptables version) */
  effective: Params;
  rulePresent?: boolean;
  chainPresent?: boolean;
  policy?: string | null;
}

type Change = 'flush' | 'policy' | 'delete-chain' | 'add' | 'remove' | 'none';

/** LooseVersion-like: the numbers of "1.8.9 (nf_tables)" compared part by part. */
function versionAtLeast(version: string, min: string): boolean {
  const a = version
    .split(/[^0-9]+/)
    .filter((x) => x)
    .map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < b.length; i++) if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > (b[i] as number);
  return true;
}

function args(p: Params): Partial<ModuleResult> {
  return {
    failed: false,
    ip_version: p.ip_version,
    table: p.table,
    chain: p.chain ?? null,
    flush: p.flush,
    rule: constructRule(p).join(' '),
    state: p.state,
    chain_management: p.chain_management,
  };
}

async function queryIptables(ctx: ModuleContext, p: Params): Promise<IptablesState> {
  if (p.flush !== true && (p.chain === undefined || p.chain === null))
    throw new ModuleFailure('Either chain or flush parameter must be specified.', args(p));
  const e: Params = { ...p };
  if (p.log_prefix || p.log_level) {
    if (p.jump === undefined || p.jump === null) e.jump = 'LOG';
    else if (p.jump !== 'LOG')
      throw new ModuleFailure('Logging options can only be used with the LOG jump target.', args(p));
  }
  const bin = BINS[String(p.ip_version)] ?? 'iptables';
  const lines = [`${SBIN}; command -v ${bin} >/dev/null || { echo NOBIN; exit 0; }`, `echo "V|$(${bin} --version)"`];
  const r0 = await ctx.run(lines.join('\n'));
  if (r0.stdout.includes('NOBIN'))
    throw new ModuleFailure(`Failed to find required executable "${bin}" in paths: ${PATHS}`);
  const version = (/^V\|[^v]*v(.*)$/m.exec(r0.stdout)?.[1] ?? '').trim();
  if (!versionAtLeast(version, '1.4.20')) e.wait = undefined;
  else if (!versionAtLeast(version, '1.6.0')) e.wait = '';
  const s: IptablesState = { effective: e };
  if (p.flush === true) return s;
  const listChain = run([...command(e, '-L', false), '-n']);
  if (p.policy) {
    const r = await ctx.run(listChain);
    checked(r, [...command(e, '-L', false), '-n']);
    s.policy = /\(policy ([A-Z]+)\)/.exec(r.stdout.split('\n')[0] ?? '')?.[1] ?? null;
    return s;
  }
  const rc = async (cmd: string) => (await ctx.run(`${cmd} >/dev/null 2>&1`)).rc === 0;
  if (p.state === 'absent' && constructRule(p).length === 0) {
    s.chainPresent = await rc(listChain);
    return s;
  }
  s.rulePresent = await rc(run(command(e, '-C')));
  s.chainPresent = s.rulePresent || (await rc(listChain));
  return s;
}

export function planIptables(p: Params, s: IptablesState): Change | null {
  if (p.flush === true) return 'flush';
  if (p.policy) {
    if (!s.policy) throw new ModuleFailure("Can't detect current policy", args(p));
    return s.policy !== p.policy ? 'policy' : null;
  }
  if (p.state === 'absent' && constructRule(p).length === 0) return s.chainPresent ? 'delete-chain' : null;
  const want = p.state === 'present';
  if (s.rulePresent === want) return null;
  return want ? 'add' : 'remove';
}

function checked(r: ExecResult, argv: string[]): void {
  if (r.rc !== 0)
    throw new ModuleFailure((r.stderr || r.stdout).trimEnd(), {
      cmd: argv.join(' '),
      rc: r.rc,
      stdout: r.stdout,
      stderr: r.stderr,
    });
}

const spec: ModuleSpec = {
  params: {
    table: { type: 'str', support: 'full', default: 'filter', choices: ['filter', 'nat', 'mangle', 'raw', 'security'] },
    state: { type: 'str', support: 'full', default: 'present', choices: ['absent', 'present'] },
    action: { type: 'str', support: 'full', default: 'append', choices: ['append', 'insert'] },
    ip_version: { type: 'str', support: 'full', default: 'ipv4', choices: ['ipv4', 'ipv6'] },
    chain: { type: 'str', support: 'full' },
    rule_num: { type: 'str', support: 'full' },
    protocol: { type: 'str', support: 'full' },
    wait: { type: 'str', support: 'full' },
    source: { type: 'str', support: 'full' },
    to_source: { type: 'str', support: 'full' },
    destination: { type: 'str', support: 'full' },
    to_destination: { type: 'str', support: 'full' },
    match: { type: 'list', support: 'full', elements: 'str', default: [] },
    tcp_flags: { type: 'dict', support: 'full' },
    jump: { type: 'str', support: 'full' },
    gateway: { type: 'str', support: 'full' },
    log_prefix: { type: 'str', support: 'full' },
    log_level: {
      type: 'str',
      support: 'full',
      choices: [
        '0',
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
        'emerg',
        'alert',
        'crit',
        'error',
        'warning',
        'notice',
        'info',
        'debug',
      ],
    },
    goto: { type: 'str', support: 'full' },
    in_interface: { type: 'str', support: 'full' },
    out_interface: { type: 'str', support: 'full' },
    fragment: { type: 'str', support: 'full' },
    set_counters: { type: 'str', support: 'full' },
    source_port: { type: 'str', support: 'full' },
    destination_port: { type: 'str', support: 'full' },
    destination_ports: { type: 'list', support: 'full', elements: 'str', default: [] },
    to_ports: { type: 'str', support: 'full' },
    set_dscp_mark: { type: 'str', support: 'full' },
    set_dscp_mark_class: { type: 'str', support: 'full' },
    comment: { type: 'str', support: 'full' },
    ctstate: { type: 'list', support: 'full', elements: 'str', default: [] },
    src_range: { type: 'str', support: 'full' },
    dst_range: { type: 'str', support: 'full' },
    match_set: { type: 'str', support: 'full' },
    match_set_flags: { type: 'str', support: 'full', choices: ['src', 'dst', 'src,dst', 'dst,src'] },
    limit: { type: 'str', support: 'full' },
    limit_burst: { type: 'str', support: 'full' },
    uid_owner: { type: 'str', support: 'full' },
    gid_owner: { type: 'str', support: 'full' },
    reject_with: { type: 'str', support: 'full' },
    icmp_type: { type: 'str', support: 'full' },
    syn: { type: 'str', support: 'full', default: 'ignore', choices: ['ignore', 'match', 'negate'] },
    flush: { type: 'bool', support: 'full', default: false },
    policy: { type: 'str', support: 'full', choices: ['ACCEPT', 'DROP', 'QUEUE', 'RETURN'] },
    chain_management: { type: 'bool', support: 'full', default: false },
  },
  mutuallyExclusive: [
    ['set_dscp_mark', 'set_dscp_mark_class'],
    ['flush', 'policy'],
  ],
};

export const iptables = defineStateModule<IptablesState, Change>({
  name: 'iptables',
  spec,
  query: queryIptables,
  describe: (p) => args(p),
  plan(p, s) {
    if (str(p.jump)?.toLowerCase() === 'tee' && !p.gateway)
      throw new ModuleFailure(`jump is ${String(p.jump)} but all of the following are missing: gateway`);
    const change = planIptables(p, s);
    return change ? { changes: change } : null;
  },
  async apply(ctx, p, change, s) {
    const e = s.effective;
    const exec = async (argv: string[]) => checked(await ctx.run(run(argv)), argv);
    if (change === 'flush') await exec(command(e, '-F', false));
    else if (change === 'policy') await exec([...command(e, '-P', false), String(p.policy)]);
    else if (change === 'delete-chain') {
      if (p.chain_management === true) await exec(command(e, '-X', false));
    } else if (change === 'add') {
      if (!s.chainPresent && p.chain_management === true) await exec(command(e, '-N', false));
      await exec(command(e, p.action === 'insert' ? '-I' : '-A'));
    } else if (change === 'remove') await exec(command(e, '-D'));
  },
});
