import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPosition } from '../../core/errors.js';
import type { Secrets } from '../../core/secrets.js';
import { inventoryBase, loadAdjacentVars, loadInventory, resolveInventoryPath } from '../../inventory/load.js';
import { EXIT } from '../../executor/run.js';
import { loadPlaybook } from '../../playbook/load.js';
import { undefinedNames } from '../../playbook/undefined-names.js';
import { listUnimplemented } from '../../playbook/unimplemented.js';
import { ansibleSettings, settingsVariables } from '../ansible-cfg.js';
import { parseExtraVars } from '../args.js';

/**
 * `orch check [INVENTORY] PLAYBOOK`: load and validate without connecting (errors exit 4, as a run would),
 * then list as warnings what Ansible has and orch does not implement (those tasks fail only if a host reaches
 * them), and names read that nothing defines: an error where a run surely reaches them (a run refuses to start),
 * a warning where a condition may skip them. The inventory (or ansible.cfg's) supplies its variables.
 */
export async function checkCommand(argv: string[], secrets: Secrets): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'extra-vars': { type: 'string', short: 'e', multiple: true } },
  });
  const [first, second] = positionals;
  const playbook = second ?? first;
  if (!playbook) {
    process.stdout.write('usage: orch check [INVENTORY] PLAYBOOK [-e k=v]\n');
    return EXIT.usage;
  }
  const settings = ansibleSettings();
  const pb = loadPlaybook(playbook, { secrets, rolePaths: [resolve('roles'), ...settings.rolesPath] });
  const found = listUnimplemented(pb, secrets);
  for (const u of found) process.stdout.write(`${formatPosition(u.pos)}: warning: ${u.what}\n`);
  const inventory = second !== undefined ? resolveInventoryPath(first as string) : settings.inventory;
  let errors = 0;
  if (inventory === undefined) {
    process.stdout.write(
      'note: no inventory given (nor in ansible.cfg): names defined only there cannot be told from undefined ones; not checked\n',
    );
  } else {
    const inv = loadInventory(inventory, secrets);
    if (resolve(pb.dir) !== resolve(inventoryBase(inventory))) loadAdjacentVars(inv, pb.dir, secrets);
    const outside = new Set([
      ...Object.keys(parseExtraVars(values['extra-vars'] ?? [])),
      ...Object.keys(settingsVariables(settings)),
    ]);
    for (const h of inv.order)
      for (const layer of inv.varLayers(h)) for (const k of Object.keys(layer.vars)) outside.add(k);
    for (const u of undefinedNames(pb, outside, secrets)) {
      if (u.sure) errors++;
      process.stdout.write(
        `${formatPosition(u.pos)}: ${u.sure ? 'error' : 'warning'}: '${u.name}' is undefined: nothing defines it${u.sure ? ' (a run refuses to start)' : ' (fails if a host reaches it)'}\n`,
      );
    }
  }
  const warnings = found.length;
  process.stdout.write(
    `${pb.file}: ${errors > 0 ? `${errors} error(s)` : 'loads'}; ${warnings === 0 ? 'everything it uses is implemented by orch' : `${warnings} warning(s): those tasks fail if a host reaches them`}\n`,
  );
  return errors > 0 ? EXIT.badInput : EXIT.ok;
}
