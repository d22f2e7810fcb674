import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatPosition } from '../../core/errors.js';
import { EXIT } from '../../executor/run.js';
import { loadPlaybook } from '../../playbook/load.js';
import { listUnimplemented } from '../../playbook/unimplemented.js';
import { ansibleSettings } from '../ansible-cfg.js';

/**
 * `orch check PLAYBOOK`: load and validate without connecting (errors exit 4, as a run would), then list as
 * warnings what Ansible has and orch does not implement: those tasks fail only if a host reaches them.
 */
export async function checkCommand(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  const playbook = positionals[0];
  if (!playbook) {
    process.stdout.write('usage: orch check PLAYBOOK\n');
    return EXIT.usage;
  }
  const pb = loadPlaybook(playbook, { rolePaths: [resolve('roles'), ...ansibleSettings().rolesPath] });
  const found = listUnimplemented(pb);
  for (const u of found) process.stdout.write(`${formatPosition(u.pos)}: warning: ${u.what}\n`);
  process.stdout.write(`${pb.file}: loads; ${found.length === 0 ? 'everything it uses is implemented by orch' : `${found.length} warning(s): those tasks fail if a host reaches them`}\n`);
  return EXIT.ok;
}
