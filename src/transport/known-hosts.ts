import { createHmac } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { globMatch } from '../core/glob.js';

export interface KnownKey {
  type: string;
  /** base64 of the key blob, as in the file */
  key: string;
}

export type HostKeyVerdict =
  | { kind: 'match' }
  | { kind: 'unknown' }
  | { kind: 'changed'; expected: KnownKey[]; file: string }
  /** an `@revoked` line names this key: never accepted */
  | { kind: 'revoked'; file: string };

/**
 * The names a host is recorded under: `host` on port 22, `[host]:port` otherwise; lower case, as OpenSSH (hashed
 * entries depend on it).
 */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

function nameMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negate = pattern.startsWith('!');
    const p = negate ? pattern.slice(1) : pattern;
    // OpenSSH: `*` and `?` only; brackets are literal (`[10.0.0.5]:2222` is a host on port 2222)
    if (globMatch(p, name, { classes: false, ignoreCase: true })) {
      if (negate) return false;
      matched = true;
    }
  }
  return matched;
}

interface Entry {
  /** `@revoked` or `@cert-authority`, when the line has one */
  marker: string | undefined;
  names: string;
  type: string;
  key: string;
  /** the line's place in its file: matches are reported in file order */
  line: number;
}

/** A file's lines, parsed once: plain names found by lookup, the rest (patterns, hashed) matched one by one. */
interface ParsedFile {
  /** what the file held when parsed (reading it again is cheap; parsing every line for every host is not) */
  text: string;
  byName: Map<string, Entry[]>;
  others: Entry[];
}

/** a memo keyed by the file's content: it can never answer for a file that changed */
const parsed = new Map<string, ParsedFile>();

const isPlain = (field: string) => !field.startsWith('|') && !/[*?!]/.test(field);

function parseFile(file: string): ParsedFile | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // missing: skipped
  }
  const cached = parsed.get(file);
  if (cached?.text === text) return cached;
  const out: ParsedFile = { text, byName: new Map(), others: [] };
  text.split('\n').forEach((rawLine, line) => {
    const content = rawLine.trim();
    if (!content || content.startsWith('#')) return;
    const parts = content.split(/\s+/);
    const marker = parts[0]?.startsWith('@') ? parts.shift() : undefined;
    const [names, type, key] = parts;
    if (!names || !type || !key) return;
    const entry = { marker, names, type, key, line };
    if (!isPlain(names)) return void out.others.push(entry);
    // a name written twice on the line (in any case) still matches the line once
    for (const name of new Set(names.toLowerCase().split(',')))
      out.byName.set(name, [...(out.byName.get(name) ?? []), entry]);
  });
  parsed.set(file, out);
  return out;
}

/**
 * Keys recorded for a host in the given known_hosts files (missing files are skipped). Each file is parsed
 * once while it stays the same (a run connects to every host of a big inventory against the same file).
 */
export function lookupKnownKeys(
  files: readonly string[],
  name: string,
): { keys: KnownKey[]; file: string | undefined; revoked: (KnownKey & { file: string })[] } {
  const keys: KnownKey[] = [];
  const revoked: (KnownKey & { file: string })[] = [];
  let found: string | undefined;
  for (const file of files) {
    const f = parseFile(file);
    if (!f) continue;
    // plain names compare in any case, as the patterns (nameMatches)
    const plain = f.byName.get(name.toLowerCase()) ?? [];
    const matching = [...plain, ...f.others.filter((e) => nameMatches(e.names, name))];
    for (const { marker, type, key } of matching.sort((a, b) => a.line - b.line)) {
      if (marker === '@revoked') revoked.push({ type, key, file });
      else if (!marker) {
        // @cert-authority: host certificates are not supported (such a host is "unknown")
        keys.push({ type, key });
        found ??= file;
      }
    }
  }
  return { keys, file: found, revoked };
}

/** Decide on the key a server presented: the raw key blob from the SSH handshake. */
export function verifyHostKey(files: readonly string[], name: string, presented: Buffer): HostKeyVerdict {
  const { keys, file, revoked } = lookupKnownKeys(files, name);
  const b64 = presented.toString('base64');
  const bad = revoked.find((k) => k.key === b64);
  if (bad) return { kind: 'revoked', file: bad.file };
  if (keys.length === 0) return { kind: 'unknown' };
  if (keys.some((k) => k.key === b64)) return { kind: 'match' };
  return { kind: 'changed', expected: keys, file: file ?? '' };
}

/** Key type name inside an SSH public key blob (its first string field). */
export function keyBlobType(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('ascii');
}

export function recordHostKey(file: string, name: string, blob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  appendFileSync(file, `${name} ${keyBlobType(blob)} ${blob.toString('base64')}\n`, { mode: 0o600 });
}
