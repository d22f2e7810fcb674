import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { ParseError, UsageError } from '../core/errors.js';
import type { Secrets } from '../core/secrets.js';
import { loadVarsPath, parseYaml, positionOf } from '../yaml/load.js';
import { isHostList, loadHostList } from './host-list.js';
import { parseIniInventory } from './ini.js';
import { Inventory } from './model.js';

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function loadYamlGroup(inv: Inventory, name: string, body: unknown, file: string): void {
  const g = inv.group(name);
  if (body === null || body === undefined) return;
  if (!isDict(body)) throw new ParseError(`group '${name}' must be a mapping`, positionOf(body) ?? { file });
  for (const key of Object.keys(body)) {
    if (!['hosts', 'vars', 'children'].includes(key)) {
      throw new ParseError(`unknown key '${key}' in group '${name}'`, positionOf(body) ?? { file }, 'A group has hosts, vars and children.');
    }
  }
  if (isDict(body.hosts)) {
    for (const [h, hv] of Object.entries(body.hosts)) {
      const host = inv.host(h);
      if (name !== 'all') g.hosts.add(h);
      if (isDict(hv)) Object.assign(host.vars, hv);
    }
  }
  if (isDict(body.vars)) Object.assign(g.vars, body.vars);
  if (isDict(body.children)) {
    for (const [child, cbody] of Object.entries(body.children)) {
      inv.addChild(name, child, file, positionOf(body.children)?.keyLines.get(child));
      loadYamlGroup(inv, child, cbody, file);
    }
  }
}

function loadSource(inv: Inventory, file: string, secrets: Secrets): void {
  const text = readFileSync(file, 'utf8');
  const ext = extname(file);
  const looksYaml = ext === '.yml' || ext === '.yaml' || /^\s*(---|all:|[A-Za-z0-9_-]+:\s*$)/m.test(text.split('\n').find((l) => l.trim() && !l.trim().startsWith('#')) ?? '');
  if (!looksYaml) return parseIniInventory(text, file, inv);
  const data = parseYaml(text, file, secrets);
  if (!isDict(data)) throw new ParseError('a YAML inventory is a mapping of groups (usually starting with `all:`)', { file, line: 1 });
  for (const [group, body] of Object.entries(data)) loadYamlGroup(inv, group, body, file);
}

/** group_vars/NAME(.yml|.yaml|.json|) or group_vars/NAME/ (every file in it). */
function loadVarsDir(dir: string, secrets: Secrets, apply: (name: string, vars: Dict) => void): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir).sort()) apply(entry.replace(/\.(ya?ml|json)$/, ''), loadVarsPath(join(dir, entry), secrets));
}

/**
 * group_vars/ and host_vars/ of a directory merged into the inventory: the inventory's own, then (Ansible
 * reads both) those beside the playbook, which win over the inventory's for the same group or host.
 */
export function loadAdjacentVars(inv: Inventory, dir: string, secrets: Secrets): void {
  loadVarsDir(join(dir, 'group_vars'), secrets, (name, vars) => {
    if (!inv.groups.has(name)) return; // Ansible ignores vars of groups that do not exist
    Object.assign(inv.group(name).vars, vars);
    secrets.registerPasswordVars(vars);
  });
  loadVarsDir(join(dir, 'host_vars'), secrets, (name, vars) => {
    if (!inv.hosts.has(name)) return;
    Object.assign(inv.host(name).vars, vars);
    secrets.registerPasswordVars(vars);
  });
}

/** Resolve an inventory argument: a path, a name under ./inventory/, or a host list (`a,b,`) as given. */
export function resolveInventoryPath(arg: string, cwd = process.cwd()): string {
  if (isHostList(arg)) return arg;
  for (const candidate of [resolve(cwd, arg), resolve(cwd, 'inventory', arg)]) if (existsSync(candidate)) return candidate;
  throw new UsageError(`inventory '${arg}' not found (looked for ${arg} and inventory/${arg})`, {
    hint: arg === 'lab' ? 'Bring the lab up first: orch lab up' : 'Give a path to an INI or YAML inventory, or a name under inventory/.',
  });
}

/** The directory whose group_vars/ and host_vars/ belong to an inventory (itself, or a file's directory). */
export function inventoryBase(path: string): string {
  if (isHostList(path)) return path; // none: never the playbook's directory
  return statSync(path).isDirectory() ? path : dirname(path);
}

/** secrets: where password variables (and vaulted values) are registered; it holds the vault password. */
export function loadInventory(path: string, secrets: Secrets): Inventory {
  const inv = new Inventory(path);
  if (isHostList(path)) {
    loadHostList(inv, path);
    inv.finalize();
    return inv;
  }
  const isDir = statSync(path).isDirectory();
  const base = inventoryBase(path);
  if (isDir) {
    const sources = readdirSync(path)
      .sort()
      .filter((f) => !['group_vars', 'host_vars'].includes(f) && !f.startsWith('.') && !f.endsWith('~') && statSync(join(path, f)).isFile());
    if (sources.length === 0) throw new ParseError('inventory directory has no inventory files', { file: path });
    for (const f of sources) loadSource(inv, join(path, f), secrets);
  } else loadSource(inv, path, secrets);
  inv.finalize();
  loadAdjacentVars(inv, base, secrets);
  // passwords set in plain text are as secret as vaulted ones: never printed
  for (const g of inv.groups.values()) secrets.registerPasswordVars(g.vars);
  for (const h of inv.hosts.values()) secrets.registerPasswordVars(h.vars);
  return inv;
}

export function inventoryName(path: string): string {
  if (isHostList(path)) return `hosts-${path.replace(/[^A-Za-z0-9._-]+/g, '_')}`.slice(0, 100);
  return basename(path).replace(/\.(ini|ya?ml)$/, '');
}
