import type { RunEvent } from '../core/events.js';

/** Secrets registered for redaction (no_log values, vault plaintext, passwords): replaced in every output. */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(secret: unknown): void {
    if (typeof secret === 'string' && secret.length >= 4) this.secrets.add(secret);
  }

  text(s: string): string {
    let out = s;
    for (const secret of this.secrets) out = out.split(secret).join('********');
    return out;
  }

  event(e: RunEvent): RunEvent {
    if (this.secrets.size === 0) return e;
    return JSON.parse(this.text(JSON.stringify(e))) as RunEvent;
  }
}

/** One JSON object per line, stable field names (`type` first). */
export function ndjsonWriter(write: (s: string) => void): (e: RunEvent) => void {
  return (e) => write(`${JSON.stringify({ ...e, ts: new Date().toISOString() })}\n`);
}
