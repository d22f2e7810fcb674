import type { ModuleResult } from '../core/result.js';
import { sh, shellJoin } from '../transport/quote.js';
import { PROBE_SUFFIX, perlString } from './probe.js';
import { shlexSplit } from './shlex.js';
import {
  CD_FAILED,
  cdFailure,
  EXEC_FAILED,
  finishCommand,
  notRun,
  SKIP_MARK,
  skipped,
  splitLines,
} from './command-result.js';
import type { ExecResult } from '../transport/types.js';
import type { ModuleSpec, Params } from './spec.js';
import { ModuleFailure, type Module, type ModuleContext } from './types.js';

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
  params: {
    ...commonParams,
    argv: { type: 'list', support: 'full', elements: 'str' },
    // accepted and ignored with Ansible's warning (the command module has not used it since 2.4)
    executable: { type: 'path', support: 'full' },
    expand_argument_vars: {
      type: 'bool',
      support: 'partial',
      note: 'orch always expands $VARS and ~ in arguments, as Ansible 2.14 does (a 2.16 option)',
      default: true,
    },
  },
  freeForm: '_raw_params',
};

const shellSpec: ModuleSpec = {
  params: { ...commonParams, executable: { type: 'path', support: 'full' } },
  freeForm: '_raw_params',
};

/** What bsd_glob (GLOB_CSH: braces, ~, backslash quoting, NOMAGIC) would return unchanged: the path alone. */
const plainPath = (p: string): boolean => !/[*?[\]{}~\\]/.test(p);

/**
 * Perl: true when the glob `p` matches something, as Python's glob.glob(creates) in Ansible's command module.
 * A plain path needs no File::Glob (~3 ms to load in a perl that has not).
 */
const globbed = (p: string): string =>
  `(grep { -e $_ || -l $_ } ${plainPath(p) ? '' : 'File::Glob::bsd_glob'}(${perlString(p)}))`;

/** `use File::Glob;` when a creates/removes pattern needs it. */
function globModule(p: Params): string {
  const patterns = [p.creates, p.removes].filter((v): v is string => typeof v === 'string');
  return patterns.every(plainPath) ? '' : 'use File::Glob; ';
}

/** Only asks creates/removes (read-only): the module's query, as probe code. */
function guardOnly(p: Params): string {
  return `${globModule(p)}my $skip = ${skipWhen(p) || '0'}; print $skip ? "${SKIP_MARK}" : "would-run";`;
}

/** creates/removes as one Perl condition, true when the command is to be skipped ('' without them). */
function skipWhen(p: Params): string {
  const tests: string[] = [];
  if (typeof p.creates === 'string') tests.push(globbed(p.creates));
  if (typeof p.removes === 'string') tests.push(`!${globbed(p.removes)}`);
  return tests.map((t) => `(${t})`).join(' || ');
}

/** The command modules' read-only part: the creates/removes guard, when there is one. */
async function queryGuard(ctx: ModuleContext, p: Params): Promise<ExecResult | undefined> {
  return p.creates || p.removes ? ctx.probe(guardOnly(p), { cwd: p.chdir as string | undefined }) : undefined;
}

/**
 * Runs argv as Python's subprocess does for Ansible's run_command: $VAR/${VAR} (when set) and a leading ~
 * expanded in each argument first (command only), an exec failure reported with its errno (not sh's 127).
 * `guard`: the creates/removes condition asked once more right before (the same Perl: no process of its own).
 */
function execArgv(argv: string[], expand: boolean, guard?: { skipWhen: string; module: string }): string {
  const skip = guard?.skipWhen ? `${guard.module}if (${guard.skipWhen}) { print "${SKIP_MARK}"; exit 0; } ` : '';
  const expansion = expand
    ? 'for (@ARGV) { s/\\$(\\w+|\\{([^}]*)\\})/my $n = defined $2 ? $2 : $1; exists $ENV{$n} ? $ENV{$n} : $&/ge; s{^~([^\\/]*)}{my $d = $1 eq "" ? ($ENV{HOME} // (getpwuid($<))[7]) : (getpwnam($1))[7]; defined $d ? $d : $&}e; } '
    : '';
  const code = `${skip}${expansion}exec { $ARGV[0] } @ARGV; my $e = $! + 0; print STDERR "\\n${EXEC_FAILED} $e $!"; exit 255;`;
  return shellJoin(['exec', 'perl', '-e', code, '--', ...argv]);
}

interface Shown {
  /** what runs, and whether $VAR and ~ are expanded in it (command) or not (shell) */
  argv: string[];
  expand: boolean;
  /** a user's `perl -e CODE orch-probe` (probeOf): its code, run as a probe instead of argv */
  probe?: string;
  /** the result's `cmd`: the argument list for command, the string for shell */
  cmd: string | string[];
}

/** Ansible's command module, step by step (ansible/modules/command.py in 2.14). */
async function runCommand(ctx: ModuleContext, p: Params, shown: Shown): Promise<ModuleResult> {
  const r0 = notRun(shown.cmd);
  const cd =
    typeof p.chdir === 'string' ? sh`cd -P -- ${p.chdir} 2>/dev/null || { printf ${CD_FAILED}; exit 0; }; ` : '';
  // creates/removes are asked first (a query, as state modules do); the command repeats the guard
  // itself in case the path appears or goes in between.
  const guarded = p.creates || p.removes ? await queryGuard(ctx, p) : undefined;
  if (guarded?.stdout === CD_FAILED) return { ...r0, failed: true, msg: cdFailure(p.chdir) };
  if (guarded?.stdout === SKIP_MARK) return skipped(p, shown.cmd, ctx.check);
  if (ctx.check) {
    // partial check mode, as Ansible's: with a guard that would let it run, "changed"; without one, skipped
    const would = { ...r0, changed: true, rc: 0, msg: WOULD_RUN_MSG };
    return p.creates || p.removes ? would : { ...would, changed: false, skipped: true };
  }
  let stdin: string | undefined;
  if (typeof p.stdin === 'string') stdin = p.stdin_add_newline === false ? p.stdin : `${p.stdin}\n`;
  const text = execArgv(shown.argv, shown.expand, { skipWhen: skipWhen(p), module: globModule(p) });
  if (ctx.background) {
    const { chdir, creates, removes, strip_empty_ends } = p;
    return ctx.background(`${cd}${text}`, stdin ?? '', {
      cmd: shown.cmd,
      p: { chdir, creates, removes, strip_empty_ends },
    });
  }
  const start = new Date();
  // a probe has no chdir, guard or stdin (probeOf): cd and the guard are empty
  const r =
    shown.probe === undefined ? await ctx.run(`${cd}${text}`, { stdin: stdin ?? '' }) : await ctx.probe(shown.probe);
  return finishCommand(p, shown.cmd, r, start, new Date());
}

/** Ansible's own refusals of a command line, with its rc 256. */
function refuse(msg: string): ModuleFailure {
  return new ModuleFailure(msg, {
    rc: 256,
    stdout: '',
    stderr: '',
    cmd: null,
    start: null,
    end: null,
    delta: null,
    changed: false,
  });
}

function argvOf(p: Params): string[] {
  try {
    return Array.isArray(p.argv) ? p.argv.map(String) : shlexSplit(String(p.cmd ?? p._raw_params));
  } catch (err) {
    throw new ModuleFailure(`cannot parse command: ${(err as Error).message}`);
  }
}

/**
 * `perl -e CODE orch-probe` (and nothing else: no chdir, stdin, creates or removes) is a probe
 * (probe.ts): read-only by its rules, so it is this task's query too, run as the probe itself (the
 * runner evaluates it without a fork, and a batch of queries can answer it). Its code, or undefined.
 */
function probeOf(p: Params, argv: string[]): string | undefined {
  if (argv.length !== 4 || argv[0] !== 'perl' || argv[1] !== '-e' || argv[3] !== PROBE_SUFFIX) return undefined;
  if (p.creates || p.removes || p.chdir || p.stdin !== undefined || (argv[2] as string).includes("'")) return undefined;
  return argv[2];
}

export const command: Module = {
  name: 'command',
  spec: commandSpec,
  async query(ctx, p) {
    const probe = probeOf(p, argvOf(p));
    return probe === undefined ? queryGuard(ctx, p) : ctx.probe(probe);
  },
  async run(ctx, p) {
    const text = p.cmd ?? p._raw_params;
    if (typeof p.executable === 'string') {
      const msg = `As of Ansible 2.4, the parameter 'executable' is no longer supported with the 'command' module. Not using '${p.executable}'.`;
      ctx.warn(msg);
      return { ...(await this.run(ctx, { ...p, executable: undefined })), warnings: [msg] };
    }
    const hasText = typeof text === 'string' && text.trim() !== '';
    const hasArgv = Array.isArray(p.argv) && p.argv.length > 0;
    if (!hasText && !hasArgv) throw refuse('no command given');
    if (hasText && hasArgv) throw refuse('only command or argv can be given, not both');
    let argv: string[];
    try {
      argv = hasArgv ? (p.argv as unknown[]).map(String) : shlexSplit(String(text));
    } catch (err) {
      throw new ModuleFailure(`cannot parse command: ${(err as Error).message}`);
    }
    if (argv.length === 0) throw refuse('no command given');
    // no shell features, exactly as the command module promises
    return runCommand(ctx, p, { argv, expand: true, probe: probeOf(p, argv), cmd: argv });
  },
};

export const shell: Module = {
  name: 'shell',
  spec: shellSpec,
  query: queryGuard,
  async run(ctx, p) {
    const text = p.cmd ?? p._raw_params;
    if (typeof text !== 'string' || text.trim() === '') throw refuse('no command given');
    const exe = typeof p.executable === 'string' ? p.executable : '/bin/sh';
    return runCommand(ctx, p, { argv: [exe, '-c', text], expand: false, cmd: text });
  },
};

/** raw: the text as the login shell gets it (no guards, no chdir), Ansible's result keys. */
export const raw: Module = {
  name: 'raw',
  spec: {
    params: { _raw_params: { type: 'str', support: 'full' }, executable: { type: 'path', support: 'full' } },
    freeForm: '_raw_params',
  },
  async run(ctx, p) {
    const text = typeof p._raw_params === 'string' ? p._raw_params : '';
    const r = await ctx.run(typeof p.executable === 'string' ? shellJoin([p.executable, '-c', text]) : text);
    const result: ModuleResult = {
      changed: true,
      rc: r.rc,
      stdout: r.stdout,
      stdout_lines: splitLines(r.stdout),
      stderr: r.stderr,
      stderr_lines: splitLines(r.stderr),
    };
    return r.rc === 0 ? result : { ...result, failed: true, msg: 'non-zero return code' };
  },
};
