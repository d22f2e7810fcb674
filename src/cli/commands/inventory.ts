import { parseArgs } from 'node:util';
import { resolveInventoryPath, loadInventory } from '../../inventory/load.js';
import type { Inventory } from '../../inventory/model.js';
import { selectHosts } from '../../inventory/pattern.js';
import { EXIT } from '../../executor/run.js';
import type { Secrets } from '../../core/secrets.js';
import { configureVault, VAULT_FLAGS } from '../vault-options.js';

function graph(inv: Inventory, group: string, depth: number, out: string[]): void {
  out.push(`${'  '.repeat(depth)}${depth === 0 ? '' : '|--'}@${group}:`);
  const g = inv.groups.get(group);
  if (!g) return;
  for (const child of [...g.children].sort()) graph(inv, child, depth + 1, out);
  for (const h of inv.order.filter((x) => g.hosts.has(x))) out.push(`${'  '.repeat(depth + 1)}|--${h}`);
}

export async function inventoryCommand(argv: string[], secrets: Secrets): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      graph: { type: 'boolean' },
      list: { type: 'boolean' },
      host: { type: 'string' },
      limit: { type: 'string', short: 'l' },
      ...VAULT_FLAGS,
    },
  });
  const name = positionals[0];
  if (!name) {
    process.stdout.write('usage: orch inventory INVENTORY [--graph | --list | --host HOST] [--limit PATTERN]\n');
    return EXIT.usage;
  }
  await configureVault(secrets, values);
  const inv = loadInventory(resolveInventoryPath(name), secrets);
  if (values.host) {
    const layers = inv.varLayers(selectHosts(inv, values.host)[0] as string);
    // passwords (plain or vaulted) are shown as ********, as in every other output
    process.stdout.write(
      secrets.redact(`${JSON.stringify(Object.assign({}, ...layers.map((l) => l.vars)), null, 2)}\n`),
    );
  } else if (values.list) {
    const out: Record<string, unknown> = {};
    for (const g of inv.groups.values())
      out[g.name] = { hosts: inv.hostsOf(g.name), children: [...g.children], vars: g.vars };
    process.stdout.write(secrets.redact(`${JSON.stringify(out, null, 2)}\n`));
  } else if (values.limit) {
    process.stdout.write(`${selectHosts(inv, values.limit, '--limit').join('\n')}\n`);
  } else {
    const out: string[] = [];
    graph(inv, 'all', 0, out);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  return EXIT.ok;
}
