import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors.js';

/**
 * `--shard I/N`: one of N processes (CI matrix jobs, a Kubernetes Indexed Job) takes the hosts whose
 * name hashes to I. The shard of a host depends on its name and N only, so a host stays in its shard
 * when hosts are added or removed, and N processes with I = 1..N cover every selected host exactly once.
 */
export interface Shard {
  /** 1-based, as Jest's and Playwright's --shard */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard must be I/N with 1 ≤ I ≤ N (e.g. 3/8), not '${text}'`, {
      hint: 'In a Kubernetes Indexed Job: --shard $((JOB_COMPLETION_INDEX + 1))/N',
    });
  }
  return { index, count };
}

/** The shard (1..count) a host name belongs to: the first 48 bits of its SHA-1, modulo count. */
export function shardOf(host: string, count: number): number {
  const h = createHash('sha1').update(host, 'utf8').digest();
  return (h.readUIntBE(0, 6) % count) + 1;
}

/** The hosts of `shard`, in their given order (no shard: all of them). */
export function inShard<T extends string>(hosts: T[], shard: Shard | undefined): T[] {
  return shard ? hosts.filter((h) => shardOf(h, shard.count) === shard.index) : hosts;
}

/** How a shard is named in lock and run-log names: shard-3-of-8. */
export function shardLabel(shard: Shard): string {
  return `shard-${shard.index}-of-${shard.count}`;
}
