import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { UsageError } from '../../core/errors.js';
import type { Secrets } from '../../core/secrets.js';
import { EXIT } from '../../executor/run.js';
import { PlanCollector, pending, planText, type PlanDocument } from '../../ui/plan.js';
import { RUN_FLAGS, chooseOutput, inventoryAndPlaybook, runWithReporting } from './apply.js';

const PLAN_FLAGS = { ...RUN_FLAGS, 'detailed-exitcode': { type: 'boolean', default: false } } as const;

const USAGE =
  'usage: orch plan INVENTORY [PLAYBOOK] [--detailed-exitcode] [--output tui|lines|json] [--limit PATTERN] [-e k=v]\n';

/** Run the playbook as a plan (check mode and diffs, the plan engine on) and collect what it says. */
export async function runPlan(
  inventory: string,
  playbook: string,
  values: Record<string, unknown>,
  secrets: Secrets,
): Promise<{ code: number; doc: PlanDocument }> {
  const collector = new PlanCollector();
  const code = await runWithReporting({
    secrets,
    command: `plan ${inventory}`,
    inventory,
    playbook,
    values: { ...values, check: true, diff: true },
    plan: collector.emit,
  });
  return { code, doc: collector.document() };
}

/** json: the document (`compact`: on one line, as apply's NDJSON events that follow it are) */
function printPlan(doc: PlanDocument, json: boolean, compact = false): void {
  if (process.stdout.writable)
    process.stdout.write(json ? `${JSON.stringify(doc, null, compact ? undefined : 2)}\n` : planText(doc));
}

/**
 * `orch plan INVENTORY [PLAYBOOK]`: what an apply would change, what cannot be known before it and why.
 * --detailed-exitcode: 0 nothing to change, 2 changes pending (or unknown), anything else an error.
 */
export async function planCommand(argv: string[], secrets: Secrets): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: PLAN_FLAGS, allowPositionals: true });
  const picked = values.help ? undefined : inventoryAndPlaybook(positionals, values, 'plan');
  if (!picked) {
    if (!values.help) throw new UsageError(USAGE.trim());
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  if (values.check) throw new UsageError('orch plan changes nothing already: --check is not needed');
  const [inventory, playbook] = picked;
  const { code, doc } = await runPlan(inventory, playbook, values, secrets);
  printPlan(doc, chooseOutput(values.output) === 'json');
  if (!values['detailed-exitcode']) return code;
  // 2 means "changes pending" here: a failed host (EXIT.hostFailed, also 2) is reported as a plain error
  if (code !== EXIT.ok) return code === 2 ? EXIT.error : code;
  return pending(doc) ? 2 : EXIT.ok;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/**
 * `orch apply --plan`: the plan first; on a terminal a question, `--yes` for scripts. The apply then runs as
 * usual (its own queries decide: the plan is advice). Returns undefined when the apply should go on.
 */
export async function planBeforeApply(
  inventory: string,
  playbook: string,
  values: Record<string, unknown>,
  secrets: Secrets,
): Promise<number | undefined> {
  const { plan: _p, yes, ...rest } = values;
  void _p;
  if (yes !== true && !process.stdin.isTTY)
    throw new UsageError('orch apply --plan asks before applying: run it on a terminal, or add --yes');
  const json = chooseOutput(rest.output as string | undefined) === 'json';
  const { code, doc } = await runPlan(inventory, playbook, { ...rest, output: json ? 'json' : rest.output }, secrets);
  printPlan(doc, json, true);
  if (code !== EXIT.ok) return code;
  if (!pending(doc)) {
    if (!json) process.stdout.write('Nothing to change.\n');
    return EXIT.ok;
  }
  if (yes === true) return undefined;
  if (await confirm('Apply these changes? Only "yes" goes on: ')) return undefined;
  process.stdout.write('Not applied: nothing was changed.\n');
  return EXIT.ok;
}
