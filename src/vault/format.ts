import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { OrchError } from '../core/errors.js';

/**
 * ansible-vault's format 1.1 (and 1.2, which adds a vault-id label), so existing vault files work:
 *   $ANSIBLE_VAULT;1.1;AES256
 *   hex( hex(salt) "\n" hex(hmac) "\n" hex(ciphertext) ), in lines of 80
 * Keys: PBKDF2-HMAC-SHA256(password, 32-byte salt, 10000 rounds) → 32 bytes AES-256-CTR key,
 * 32 bytes HMAC-SHA256 key, 16 bytes counter block; the plaintext is PKCS#7-padded before CTR.
 */

export class VaultError extends OrchError {}

const HEADER = /^\$ANSIBLE_VAULT;(1\.[12]);AES256(?:;([^\s]+))?\s*$/;

export function isVaulted(text: string): boolean {
  return text.trimStart().startsWith('$ANSIBLE_VAULT;');
}

function deriveKeys(password: string, salt: Buffer): { key: Buffer; hmacKey: Buffer; iv: Buffer } {
  const m = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 10000, 80, 'sha256');
  return { key: m.subarray(0, 32), hmacKey: m.subarray(32, 64), iv: m.subarray(64, 80) };
}

function pad(b: Buffer): Buffer {
  const n = 16 - (b.length % 16);
  return Buffer.concat([b, Buffer.alloc(n, n)]);
}

function unpad(b: Buffer): Buffer {
  const n = b[b.length - 1] ?? 0;
  if (n < 1 || n > 16 || n > b.length) throw new VaultError('vault data decrypted to garbage (bad padding)');
  return b.subarray(0, b.length - n);
}

export function vaultEncrypt(plaintext: string, password: string, label?: string): string {
  const salt = randomBytes(32);
  const { key, hmacKey, iv } = deriveKeys(password, salt);
  const c = createCipheriv('aes-256-ctr', key, iv);
  const ct = Buffer.concat([c.update(pad(Buffer.from(plaintext, 'utf8'))), c.final()]);
  const mac = createHmac('sha256', hmacKey).update(ct).digest('hex');
  const body = Buffer.from(`${salt.toString('hex')}\n${mac}\n${ct.toString('hex')}`).toString('hex');
  const header = label ? `$ANSIBLE_VAULT;1.2;AES256;${label}` : '$ANSIBLE_VAULT;1.1;AES256';
  return `${header}\n${body.match(/.{1,80}/g)?.join('\n') ?? ''}\n`;
}

/** `where` names the file (and line) in errors. */
export function vaultDecrypt(vaulted: string, password: string, where: string): string {
  const lines = vaulted
    .trim()
    .split(/\r?\n/)
    .map((l) => l.trim());
  if (!HEADER.test(lines[0] ?? ''))
    throw new VaultError(
      `${where}: not an ansible-vault 1.1/1.2 AES256 text (header '${(lines[0] ?? '').slice(0, 40)}')`,
    );
  const hex = lines.slice(1).join('');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new VaultError(`${where}: the vault text is damaged (not hexadecimal)`);
  const parts = Buffer.from(hex, 'hex').toString('latin1').split('\n');
  if (parts.length !== 3 || !parts.every((p) => /^[0-9a-f]+$/i.test(p)))
    throw new VaultError(`${where}: the vault text is damaged (expected salt, HMAC and data)`);
  const [saltHex, macHex, ctHex] = parts as [string, string, string];
  const { key, hmacKey, iv } = deriveKeys(password, Buffer.from(saltHex, 'hex'));
  const ct = Buffer.from(ctHex, 'hex');
  const mac = createHmac('sha256', hmacKey).update(ct).digest();
  const want = Buffer.from(macHex, 'hex');
  if (want.length !== mac.length || !timingSafeEqual(mac, want)) {
    throw new VaultError(`${where}: wrong vault password (the HMAC does not match)`, {
      hint: 'Give the password this file was encrypted with (--vault-password-file FILE or --ask-vault-pass).',
    });
  }
  const d = createDecipheriv('aes-256-ctr', key, iv);
  return unpad(Buffer.concat([d.update(ct), d.final()])).toString('utf8');
}
