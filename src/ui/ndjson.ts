import type { RunEvent, RunEventType } from '../core/events.js';
import type { Secrets } from '../core/secrets.js';

/** Replaces every secret of the invocation (vault plaintext, passwords: core/secrets.ts) in what it is given. */
export class Redactor {
  constructor(private readonly secrets: Secrets) {}

  text(s: string): string {
    return this.secrets.redact(s);
  }

  /**
   * Every string value of the event, field by field (names are left alone): a secret that equals a field
   * name or a number in the event ("1234" and durationMs 1234) cannot break the event or its JSON.
   */
  event(e: RunEvent): RunEvent {
    if (this.secrets.known().size === 0) return e;
    const out = this.redactValue(e) as Record<string, unknown>;
    // what the event is, not what it says: kept so every consumer can still read it
    for (const k of SCHEMA_FIELDS[e.type]) if (k in e) out[k] = (e as unknown as Record<string, unknown>)[k];
    return out as unknown as RunEvent;
  }

  private redactValue(v: unknown): unknown {
    if (typeof v === 'string') return this.secrets.redact(v);
    if (Array.isArray(v)) return v.map((x) => this.redactValue(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.redactValue(x);
      return out;
    }
    return v;
  }
}

/**
 * Per kind of event, the fields NDJSON writes as they are (never redacted): what the event is, not what it says.
 * Every kind is named, so a new kind does not compile until the NDJSON stream says how to write it.
 */
const SCHEMA_FIELDS: { readonly [K in RunEventType]: readonly (keyof Extract<RunEvent, { type: K }>)[] } = {
  run_start: ['type'],
  play_start: ['type'],
  batch_start: ['type'],
  task_start: ['type', 'module'],
  host_result: ['type', 'status', 'module'],
  retry: ['type'],
  warning: ['type'],
  handler_flush: ['type'],
  interrupt: ['type'],
  releases: ['type'],
  recap: ['type'],
  run_end: ['type'],
};

/** One JSON object per line, stable field names (`type` first). */
export function ndjsonWriter(write: (s: string) => void): (e: RunEvent) => void {
  return (e) => write(lineOf(e));
}

/** The line of the event last written: the run log and stdout get the same event, one after the other. */
let last: { e: RunEvent; line: string } | undefined;

function lineOf(e: RunEvent): string {
  if (last?.e !== e) last = { e, line: `${JSON.stringify({ ...e, ts: new Date().toISOString() })}\n` };
  return last.line;
}
