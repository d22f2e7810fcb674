import './v8-flags.js';
import { OrchError, ParseError, LockError, UsageError, PlayStoppedError } from '../core/errors.js';
import { Secrets } from '../core/secrets.js';
import { EXIT } from '../executor/run.js';
import { applyCommand } from './commands/apply.js';
import { historyCommand } from './commands/history.js';
import { inventoryCommand } from './commands/inventory.js';
import { lockCommand } from './commands/lock.js';

const USAGE = `orch: agentless, idempotent orchestration over SSH

  orch apply INVENTORY [PLAYBOOK]     apply a playbook (default playbooks/site.yml)
  orch run INVENTORY PLAYBOOK         the same, playbook required (or -i INVENTORY, or ansible.cfg's inventory)
  orch plan INVENTORY [PLAYBOOK]      what apply would change, and what cannot be known yet (nothing is changed);
                                      --detailed-exitcode: 0 nothing to change, 2 changes pending
  orch apply ... --plan [--yes]       the plan first, then ask (--yes: do not ask) and apply
  orch deploy INVENTORY [--ref REF]   ship a release: artifact from git, rolled out batch by batch
  orch rollback INVENTORY [--to R]    back to the previous (or named) release, the same way
  orch restart INVENTORY SERVICE      rolling cache-safe reload (drain, reload, health, undrain); --hard
  orch check [INVENTORY] PLAYBOOK     load and validate (with the inventory: names defined nowhere); list what
                                      orch does not implement (warnings)
  orch schema [--out FILE]            JSON Schema of playbooks and task files, for editors
  orch inventory INVENTORY --graph    show groups and hosts
  orch lab up [N] [--init systemd] | down | status | reset | reboot   local SSH test hosts in namespaces
  orch lock status|release INVENTORY  the run lock here and the deploy lock on the hosts
  orch history [INVENTORY]            past runs (--merge DIR: the shards of one run as one)
  orch vault encrypt|decrypt|view|edit FILE, encrypt_string   ansible-vault 1.1 files

Run options: --check --diff --limit PATTERN --shard I/N --run-id ID --tags T --skip-tags T -e k=v --forks N
             --output tui|lines|json --log FILE -v --accept-new-host-keys --timeout S
             --vault-password-file F --ask-vault-pass
`;

/** secrets: this invocation's (vault password, what must never be printed), for the commands that load or run. */
async function dispatch(argv: string[], secrets: Secrets): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'apply':
      return applyCommand(rest, secrets);
    case 'run':
      return applyCommand(rest, secrets, 'run');
    case 'lab':
      // zx is only needed here: loaded on demand to keep every other command's start fast.
      return (await import('./commands/lab.js')).labCommand(rest);
    case 'deploy':
      return (await import('./commands/deploy.js')).deployCommand(rest, secrets);
    case 'rollback':
      return (await import('./commands/deploy.js')).rollbackCommand(rest, secrets);
    case 'restart':
      return (await import('./commands/deploy.js')).restartCommand(rest, secrets);
    case 'inventory':
      return inventoryCommand(rest, secrets);
    case 'plan':
      return (await import('./commands/plan.js')).planCommand(rest, secrets);
    case 'check':
      return (await import('./commands/check.js')).checkCommand(rest, secrets);
    case 'schema':
      return (await import('./commands/schema.js')).schemaCommand(rest);
    case 'vault':
      return (await import('./commands/vault.js')).vaultCommand(rest);
    case 'lock':
      return lockCommand(rest, secrets);
    case 'history':
      return historyCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? EXIT.usage : EXIT.ok;
    default:
      throw new UsageError(`unknown command '${cmd}'`, { hint: 'orch help lists the commands' });
  }
}

function exitCodeOf(err: unknown): number {
  if (err instanceof PlayStoppedError) return EXIT.error;
  if (err instanceof ParseError) return EXIT.badInput;
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof LockError) return EXIT.locked;
  if (err instanceof OrchError) return EXIT.badInput;
  return EXIT.error;
}

/**
 * A closed stdout or stderr (a pipe into `head`, a terminal gone) is not a reason to stop a run on the
 * hosts: the write error is dropped here and writers check `writable`.
 */
function tolerateClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
}

/** The only place that exits. */
async function main(): Promise<void> {
  tolerateClosedOutput();
  // A promise that can never settle (nothing left to wait on) would end the process with status 0 in the
  // middle of a run: say so, and fail.
  let finished = false;
  process.once('beforeExit', () => {
    if (finished) return;
    process.stderr.write(
      'INTERNAL ERROR (a bug in orch, please report): the run stopped waiting on something that can never happen\n',
    );
    process.exitCode = EXIT.error;
  });
  const secrets = new Secrets();
  let code: number;
  try {
    code = await dispatch(process.argv.slice(2), secrets);
  } catch (err) {
    code = exitCodeOf(err);
    if (err instanceof OrchError) {
      process.stderr.write(secrets.redact(`ERROR: ${err.message}\n`));
      if (err.hint) process.stderr.write(secrets.redact(`  hint: ${err.hint}\n`));
    } else if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`ERROR: ${err.message}\n`);
      code = EXIT.usage;
    } else {
      process.stderr.write(
        secrets.redact(
          `INTERNAL ERROR (a bug in orch, please report): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        ),
      );
    }
  }
  finished = true;
  process.exitCode = code;
  // Let stdout drain; anything still holding the loop open (a stuck socket) must not keep us alive.
  setTimeout(() => process.exit(code), 200).unref();
}

await main();
