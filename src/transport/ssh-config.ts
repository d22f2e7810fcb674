import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { globToRegExp as toRegExp } from '../core/glob.js';

/** The subset of ~/.ssh/config that orch honours. */
export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
}

/** ssh_config Host patterns: `*` and `?` only (OpenSSH's match_pattern). */
const globToRegExp = (glob: string): RegExp => toRegExp(glob, { classes: false });

function hostMatches(patterns: string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(host)) return false;
    } else if (globToRegExp(p).test(host)) matched = true;
  }
  return matched;
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** Resolve settings for `host` from an ssh_config text: first value wins, as in OpenSSH. */
export function parseSshConfig(text: string, host: string): SshConfigEntry {
  const out: SshConfigEntry = { identityFiles: [] };
  let active = true;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+)\s*=?\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = (m[1] ?? '').toLowerCase();
    const value = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
    if (key === 'host') {
      active = hostMatches(value.split(/\s+/), host);
      continue;
    }
    if (key === 'match') {
      active = value.trim().toLowerCase() === 'all';
      continue;
    }
    if (!active) continue;
    if (key === 'hostname') out.hostName ??= value.replace(/%h/g, host);
    else if (key === 'user') out.user ??= value;
    else if (key === 'port') out.port ??= Number(value);
    else if (key === 'identityfile') out.identityFiles.push(expandHome(value));
    else if (key === 'proxyjump' && value.toLowerCase() !== 'none') out.proxyJump ??= value;
  }
  return out;
}

export function readUserSshConfig(host: string, file = join(homedir(), '.ssh', 'config')): SshConfigEntry {
  if (!existsSync(file)) return { identityFiles: [] };
  return parseSshConfig(readFileSync(file, 'utf8'), host);
}
