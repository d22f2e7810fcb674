import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { globMatch, globToRegExp as toRegExp, hasWildcards } from '../core/glob.js';

/** The subset of ~/.ssh/config that orch honours. */
export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
  /** UserKnownHostsFile / GlobalKnownHostsFile: where host keys are checked (and new ones recorded) */
  userKnownHostsFiles?: string[];
  hostKeyAlias?: string;
  globalKnownHostsFiles?: string[];
}

/** ssh_config Host patterns: `*` and `?` only, any case (OpenSSH's match_hostname). */
const globToRegExp = (glob: string): RegExp => toRegExp(glob, { classes: false, ignoreCase: true });

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

/** A known_hosts file list (`none`: no file); %h and %d as in OpenSSH. */
function knownHostsList(value: string, host: string): string[] {
  if (value.trim().toLowerCase() === 'none') return [];
  return value
    .split(/\s+/)
    .filter(Boolean)
    .map((f) => expandHome(f.replace(/%d/g, homedir()).replace(/%h/g, host).replace(/%%/g, '%')));
}

/**
 * A `Match` line: all, final, host (the name after HostName), originalhost, localuser, each negatable with `!`;
 * every criterion must hold. Others (exec, user, canonical, tagged) cannot be decided here: the block is skipped.
 */
function matchBlock(value: string, original: string, hostName: string): boolean {
  const words = value.trim().split(/\s+/);
  for (let i = 0; i < words.length; i++) {
    const raw = (words[i] ?? '').toLowerCase();
    const negate = raw.startsWith('!');
    const what = negate ? raw.slice(1) : raw;
    let hit: boolean;
    if (what === 'all' || what === 'final') hit = true;
    else if (what === 'host' || what === 'originalhost' || what === 'localuser') {
      const patterns = (words[++i] ?? '').split(',');
      const subject = what === 'host' ? hostName : what === 'originalhost' ? original : userInfo().username;
      hit = hostMatches(patterns, subject);
    } else return false;
    if (hit === negate) return false;
  }
  return true;
}

/** Texts of the files an `Include` line names (empty when none exist). */
export type IncludeReader = (value: string) => string[];

/** Resolve settings for `host` from an ssh_config text: first value wins, as in OpenSSH. */
export function parseSshConfig(text: string, host: string, include: IncludeReader = () => []): SshConfigEntry {
  const out: SshConfigEntry = { identityFiles: [] };
  parseInto(out, text, host, include, 0);
  return out;
}

function parseInto(out: SshConfigEntry, text: string, host: string, include: IncludeReader, depth: number): void {
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
      active = matchBlock(value, host, out.hostName ?? host);
      continue;
    }
    if (!active) continue;
    // an included file's lines count where the Include stands (OpenSSH caps the nesting at 16)
    if (key === 'include' && depth < 16) for (const t of include(value)) parseInto(out, t, host, include, depth + 1);
    else if (key === 'hostname') out.hostName ??= value.replace(/%h/g, host);
    else if (key === 'user') out.user ??= value;
    else if (key === 'port') out.port ??= Number(value);
    else if (key === 'identityfile') out.identityFiles.push(expandHome(value));
    else if (key === 'proxyjump' && value.toLowerCase() !== 'none') out.proxyJump ??= value;
    else if (key === 'hostkeyalias') out.hostKeyAlias ??= value;
    else if (key === 'userknownhostsfile') out.userKnownHostsFiles ??= knownHostsList(value, host);
    else if (key === 'globalknownhostsfile') out.globalKnownHostsFiles ??= knownHostsList(value, host);
  }
}

/** `Include` in a user config: ~ expanded, relative to ~/.ssh, wildcards in the file name, in name order. */
export function includeReader(sshDir: string): IncludeReader {
  return (value) =>
    value
      .split(/\s+/)
      .filter(Boolean)
      .flatMap((p) => {
        const path = isAbsolute(expandHome(p)) ? expandHome(p) : join(sshDir, p);
        const dir = dirname(path);
        const name = basename(path);
        if (!hasWildcards(name, GLOB)) return existsSync(path) && statSync(path).isFile() ? [path] : [];
        if (!existsSync(dir)) return [];
        return readdirSync(dir)
          .filter((f) => globMatch(name, f, GLOB))
          .sort()
          .map((f) => join(dir, f))
          .filter((f) => statSync(f).isFile());
      })
      .map((f) => readFileSync(f, 'utf8'));
}

/** Include paths are glob(7) patterns: `[...]` is a class there. */
const GLOB = { classes: true };

/**
 * ~/.ssh/config (or the file `-F` names) for `host`; `first` are lines read before the file's (the
 * command line's `-o` options, which win). A file named with `-F` must exist, as OpenSSH requires.
 */
export function readUserSshConfig(
  host: string,
  file = join(homedir(), '.ssh', 'config'),
  first: string[] = [],
  required = false,
): Readonly<SshConfigEntry> {
  const head = first.join('\n');
  if (!existsSync(file)) {
    if (required) throw new Error(`cannot read ssh config file ${file}`);
    return parseSshConfig(head, host);
  }
  const text = `${head}\n${readFileSync(file, 'utf8')}`;
  // asked for every task on every host (the connection it runs on): parsed again only when the text changed
  // (a file with Include directives always: what it includes may have)
  if (/^\s*include\b/im.test(text)) return parseSshConfig(text, host, includeReader(dirname(file)));
  if (text !== parsed.text) parsed = { text, byHost: new Map() };
  let entry = parsed.byHost.get(host);
  if (!entry) parsed.byHost.set(host, (entry = parseSshConfig(text, host)));
  return entry;
}

/** The entries parsed from the last text read, by host; shared by their callers, which only read them. */
let parsed: { text: string; byHost: Map<string, SshConfigEntry> } = { text: '', byHost: new Map() };
