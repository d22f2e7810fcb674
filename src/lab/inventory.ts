/** The inventory file `orch lab up` writes for a plain lab: its hosts in the groups of the seeds' stack. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type LabConfig, type LabHost } from './config.js';

/** Group layout of the lab inventory: the seeds' stack on N hosts. */
export function labGroups(names: string[]): Record<string, string[]> {
  const n = names.length;
  if (n === 0) return {};
  if (n === 1) return { lb: names, web: names, db: names };
  if (n === 2) return { lb: [names[0] as string], web: [names[0] as string], db: [names[1] as string] };
  return { lb: [names[0] as string], web: names.slice(1, n - 1), db: [names[n - 1] as string] };
}

export function writeInventory(cfg: LabConfig, hosts: LabHost[]): void {
  const groups = labGroups(hosts.map((h) => h.name));
  const lines = ['# Written by `orch lab up`: local lab hosts (network namespaces on this machine).', '[lab]'];
  for (const h of hosts) lines.push(`${h.name} ansible_host=${h.address}`);
  for (const [g, members] of Object.entries(groups)) lines.push('', `[${g}]`, ...members);
  lines.push(
    '',
    '[all:vars]',
    'ansible_user=deploy',
    `ansible_ssh_private_key_file=${join(cfg.stateDir, 'id_ed25519')}`,
    `orch_known_hosts_file=${join(cfg.stateDir, 'known_hosts')}`,
    'orch_lab=true',
    '',
  );
  mkdirSync(dirname(cfg.inventoryFile), { recursive: true });
  writeFileSync(cfg.inventoryFile, lines.join('\n'));
}
