import type { ModuleResult } from '../core/result.js';
import { quote, sh, shellJoin } from '../transport/quote.js';
import { perlProbe, perlString } from './probe.js';
import { shlexSplit } from './shlex.js';
import type { ExecResult } from '../transport/types.js';
import type { ModuleSpec, Params } from './spec.js';
import { ModuleFailure, type Module, type ModuleContext } from './types.js';

const SKIP_MARK = '__orch_command_skipped__';

/** Ansible's message for a command check mode does not run (executor/plan.ts reads it). */
export const WOULD_RUN_MSG = 'Command would have run if not in check mode';

const commonParams = {
  _raw_params: { type: 'str', support: 'full' },
  cmd: { type: 'str', support: 'full' },
  chdir: { type: 'path', support: 'full' },
  creates: { type: 'path', support: 'full' },
  removes: { type: 'path', support: 'full' },
  stdin: { type: 'str', support: 'full' },
  stdin_add_newline: { type: 'bool', support: 'full', default: true },
  strip_empty_ends: { type: 'bool', support: 'full', default: true },
} as const;

const commandSpec: ModuleSpec = {
  params: { ...commonParams, argv: { type: 'list', support: 'full', elements: 'str' }, expand_argument_vars: { type: 'bool', support: 'partial', note: 'orch does not expand $VARS or ~ in argv (Ansible 2.16 option; 2.14 has none)', default: true } },
  freeForm: '_raw_params',
  mutuallyExclusive: [['_raw_params', 'cmd', 'argv']],
  requiredOneOf: [['_raw_params', 'cmd', 'argv']],
};

const shellSpec: ModuleSpec = {
  params: { ...commonParams, executable: { type: 'path', support: 'full' } },
  freeForm: '_raw_params',
  mutuallyExclusive: [['_raw_params', 'cmd']],
  requiredOneOf: [['_raw_params', 'cmd']],
};

/** The guard for creates/removes runs in the same round trip as the command itself. */
function guard(p: Params): string {
  const parts: string[] = [];
  if (typeof p.creates === 'string') parts.push(sh`if [ -e ${p.creates} ]; then printf ${SKIP_MARK}; exit 0; fi; `);
  if (typeof p.removes === 'string') parts.push(sh`if [ ! -e ${p.removes} ]; then printf ${SKIP_MARK}; exit 0; fi; `);
  return parts.join('');
}

/** Only asks creates/removes (read-only): the module's query. */
function guardOnly(p: Params): string {
  const tests: string[] = [];
  if (typeof p.creates === 'string') tests.push(`-e ${perlString(p.creates)}`);
  if (typeof p.removes === 'string') tests.push(`!-e ${perlString(p.removes)}`);
  return perlProbe(`my $skip = ${tests.map((t) => `(${t})`).join(' || ') || '0'}; print $skip ? "${SKIP_MARK}" : "would-run";`);
}

/** The command modules' read-only part: the creates/removes guard, when there is one. */
async function queryGuard(ctx: ModuleContext, p: Params): Promise<ExecResult | undefined> {
  return p.creates || p.removes ? ctx.run(guardOnly(p), { cwd: p.chdir as string | undefined }) : undefined;
}

function lines(s: string): string[] {
  return s === '' ? [] : s.split('\n');
}

async function runCommand(ctx: ModuleContext, p: Params, shellText: string, shown: string): Promise<ModuleResult> {
  // creates/removes are asked first (a query, as state modules do); the command repeats the guard
  // itself in case the path appears or goes in between.
  const skip = (p.creates || p.removes) && (await queryGuard(ctx, p))?.stdout === SKIP_MARK;
  if (ctx.check) {
    // What would happen is only known by running it; with creates/removes we can still ask.
    if (skip) return { changed: false, msg: 'skipped, since creates/removes says so', cmd: shown, rc: 0, stdout: '', stderr: '' };
    return { changed: false, skipped: true, msg: WOULD_RUN_MSG };
  }
  const skipped = () => ({ changed: false, cmd: shown, rc: 0, stdout: `skipped, since ${p.creates ? `${String(p.creates)} exists` : `${String(p.removes)} does not exist`}`, stderr: '', stdout_lines: [], stderr_lines: [] });
  if (skip) return skipped();
  let stdin: string | undefined;
  if (typeof p.stdin === 'string') stdin = p.stdin_add_newline === false ? p.stdin : `${p.stdin}\n`;
  const start = new Date();
  const r = await ctx.run(`${guard(p)}${shellText}`, { cwd: p.chdir as string | undefined, stdin: stdin ?? '' });
  const end = new Date();
  if (r.stdout === SKIP_MARK) return skipped();
  const strip = p.strip_empty_ends !== false;
  const stdout = strip ? r.stdout.replace(/\n+$/, '') : r.stdout;
  const stderr = strip ? r.stderr.replace(/\n+$/, '') : r.stderr;
  const result: ModuleResult = {
    changed: true,
    cmd: shown,
    rc: r.rc,
    stdout,
    stderr,
    stdout_lines: lines(stdout),
    stderr_lines: lines(stderr),
    start: start.toISOString(),
    end: end.toISOString(),
    delta: `${((end.getTime() - start.getTime()) / 1000).toFixed(3)}s`,
  };
  if (r.truncated) result.warnings = ['output was larger than orch keeps; its middle was dropped'];
  if (r.rc !== 0) {
    result.failed = true;
    result.msg = r.timedOutAfterMs !== undefined ? `timed out after ${r.timedOutAfterMs / 1000} s: the command was killed` : 'non-zero return code';
  }
  return result;
}

export const command: Module = {
  name: 'command',
  spec: commandSpec,
  query: queryGuard,
  async run(ctx, p) {
    let argv: string[];
    try {
      argv = Array.isArray(p.argv) ? p.argv.map(String) : shlexSplit(String(p.cmd ?? p._raw_params));
    } catch (err) {
      throw new ModuleFailure(`cannot parse command: ${(err as Error).message}`);
    }
    if (argv.length === 0) throw new ModuleFailure('no command given');
    // exec: no shell features, exactly as the command module promises.
    return runCommand(ctx, p, `exec ${shellJoin(argv)}`, argv.join(' '));
  },
};

export const shell: Module = {
  name: 'shell',
  spec: shellSpec,
  query: queryGuard,
  async run(ctx, p) {
    const text = String(p.cmd ?? p._raw_params);
    const exe = typeof p.executable === 'string' ? p.executable : '/bin/sh';
    return runCommand(ctx, p, `exec ${quote(exe)} -c ${quote(text)}`, text);
  },
};
