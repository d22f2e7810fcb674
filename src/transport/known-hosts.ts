import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
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

/** Keys recorded for a host in the given known_hosts files (missing files are skipped). */
export function lookupKnownKeys(
  files: readonly string[],
  name: string,
): { keys: KnownKey[]; file: string | undefined; revoked: (KnownKey & { file: string })[] } {
  const keys: KnownKey[] = [];
  const revoked: (KnownKey & { file: string })[] = [];
  let found: string | undefined;
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const rawLine of readFileSync(file, 'utf8').split('\n')) {
      const line = rawLine.trim();
      if (!line || line.startsWith('#')) continue;
      const parts = line.split(/\s+/);
      const marker = parts[0]?.startsWith('@') ? parts.shift() : undefined;
      const [names, type, key] = parts;
      if (!names || !type || !key) continue;
      if (marker === '@revoked') {
        if (nameMatches(names, name)) revoked.push({ type, key, file });
        continue;
      }
      if (marker) continue; // @cert-authority: host certificates are not supported (such a host is "unknown")
      if (nameMatches(names, name)) {
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
