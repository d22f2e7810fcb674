import type { RunEvent } from '../core/events.js';
import { knownSecrets, redactText } from '../core/secrets.js';

/** Replaces every registered secret (vault plaintext, passwords: core/secrets.ts) in what it is given. */
export class Redactor {
  text(s: string): string {
    return redactText(s);
  }

  event(e: RunEvent): RunEvent {
    if (knownSecrets().size === 0) return e;
    return JSON.parse(this.text(JSON.stringify(e))) as RunEvent;
  }
}

/** One JSON object per line, stable field names (`type` first). */
export function ndjsonWriter(write: (s: string) => void): (e: RunEvent) => void {
  return (e) => write(`${JSON.stringify({ ...e, ts: new Date().toISOString() })}\n`);
}
