import { quote } from '../transport/quote.js';
import { ModuleFailure, type Module } from './types.js';

/** `getent`: a name service database as facts: `getent_<database>` maps each key to its other fields. */
export const getent: Module = {
  name: 'getent',
  gathersFacts: true,
  spec: {
    params: {
      database: { type: 'str', support: 'full', required: true },
      key: { type: 'str', support: 'full' },
      split: { type: 'str', support: 'full' },
      service: { type: 'str', support: 'full' },
      fail_key: { type: 'bool', support: 'full', default: true },
    },
  },
  async run(ctx, p) {
    const database = String(p.database);
    if (!/^[a-z_]+$/.test(database))
      throw new ModuleFailure(`Missing database, or database requested not found: ${database}`);
    const argv = [
      'getent',
      ...(p.service ? ['-s', String(p.service)] : []),
      database,
      ...(p.key !== undefined ? ['--', String(p.key)] : []),
    ];
    const r = await ctx.run(argv.map(quote).join(' '));
    if (r.rc === 1) throw new ModuleFailure('Missing arguments, or database unknown.', { rc: r.rc });
    if (r.rc === 2) {
      if (p.fail_key === false)
        return { changed: false, ansible_facts: { [`getent_${database}`]: { [String(p.key)]: null } } };
      throw new ModuleFailure('One or more supplied key could not be found in the database.', { rc: r.rc });
    }
    if (r.rc === 3) throw new ModuleFailure('Enumeration not supported on this database.', { rc: r.rc });
    if (r.rc !== 0) throw new ModuleFailure(`getent failed (rc=${r.rc}): ${r.stderr.trim()}`, { rc: r.rc });
    return {
      changed: false,
      ansible_facts: { [`getent_${database}`]: parseGetent(r.stdout, database, p.split as string | undefined) },
    };
  },
};

/** Each line: the key, then its fields (split on `:`, or on whitespace for the hosts/services databases). */
export function parseGetent(out: string, database: string, split?: string): Record<string, string[] | string[][]> {
  const sep =
    split ??
    (['hosts', 'ahosts', 'ahostsv4', 'ahostsv6', 'services', 'protocols', 'networks', 'rpc', 'ethers'].includes(
      database,
    )
      ? undefined
      : ':');
  const result: Record<string, string[] | string[][]> = {};
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const fields = sep === undefined ? line.trim().split(/\s+/) : line.split(sep);
    const [key = '', ...rest] = fields;
    const prev = result[key];
    // a key seen twice (hosts with several addresses) keeps every line, as Ansible's "dupes"
    if (prev === undefined) result[key] = rest;
    else result[key] = Array.isArray(prev[0]) ? [...(prev as string[][]), rest] : [prev as string[], rest];
  }
  return result;
}
