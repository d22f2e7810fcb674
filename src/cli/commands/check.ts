import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPosition } from '../../core/errors.js';
import { EXIT } from '../../executor/run.js';
import { checkUndefinedVariables } from '../../executor/undefined-check.js';
import { loadInventory, resolveInventoryPath } from '../../inventory/load.js';
import { loadPlaybook } from '../../playbook/load.js';
import { listUnimplemented } from '../../playbook/unimplemented.js';
import { ansibleSettings } from '../ansible-cfg.js';
import { parseExtraVars } from '../args.js';

/**
 * `orch check [INVENTORY] PLAYBOOK`: load and validate without connecting (errors exit 4, as a run would):
 * with an inventory (or ansible.cfg's), a variable defined nowhere is an error too. Then list as warnings what
 * Ansible has and orch does not implement: those tasks fail only if a host reaches them.
 */
export async function checkCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { 'extra-vars': { type: 'string', short: 'e', multiple: true } } });
  const [first, second] = positionals;
  const playbook = second ?? first;
  if (!playbook) {
    process.stdout.write('usage: orch check [INVENTORY] PLAYBOOK [-e k=v]\n');
    return EXIT.usage;
  }
  const settings = ansibleSettings();
  const pb = loadPlaybook(playbook, { rolePaths: [resolve('roles'), ...settings.rolesPath] });
  const inventory = second !== undefined ? first : settings.inventory;
  if (inventory !== undefined) {
    const extraVars = parseExtraVars(values['extra-vars'] ?? []);
    const blind = checkUndefinedVariables(pb, loadInventory(resolveInventoryPath(inventory)), { extraVars });
    process.stdout.write(blind ? `variables: not checked: ${blind}\n` : 'variables: every name used is defined somewhere\n');
  } else process.stdout.write('variables: not checked (give the inventory: orch check INVENTORY PLAYBOOK)\n');
  const found = listUnimplemented(pb);
  for (const u of found) process.stdout.write(`${formatPosition(u.pos)}: warning: ${u.what}\n`);
  process.stdout.write(`${pb.file}: loads; ${found.length === 0 ? 'everything it uses is implemented by orch' : `${found.length} warning(s): those tasks fail if a host reaches them`}\n`);
  return EXIT.ok;
}
