import type { HostStats, RunEvent } from '../core/events.js';
import { unifiedDiff } from './diff.js';

/** Text shared by the line reporter and the TUI: no colours here. */

export function resultLine(e: Extract<RunEvent, { type: 'host_result' }>): string {
  const status = e.ignored ? 'failed (ignored)' : e.status;
  const who = e.delegatedTo && e.delegatedTo !== e.host ? `${e.host} -> ${e.delegatedTo}` : e.host;
  const item = e.item !== undefined ? ` (item=${e.item})` : '';
  const msg =
    e.msg && (e.status === 'failed' || e.status === 'unreachable' || e.module === 'debug') ? `: ${e.msg}` : '';
  // check mode: a task that reads what a skipped command would have registered says so
  const unknown = e.plan?.status === 'unknown' && !msg ? `: unknown: ${e.plan.reason}` : '';
  return `${status}: [${who}] ${e.task}${item}${msg}${unknown}`;
}

export function diffText(e: Extract<RunEvent, { type: 'host_result' }>): string {
  return (e.diff ?? []).map((d) => unifiedDiff(d)).join('');
}

export function outputTail(text: string | undefined, lines = 10): string {
  if (!text) return '';
  const all = text.replace(/\n+$/, '').split('\n');
  return (all.length > lines ? ['...', ...all.slice(-lines)] : all).join('\n');
}

export function recapLines(stats: Record<string, HostStats>): string[] {
  const width = Math.max(10, ...Object.keys(stats).map((h) => h.length));
  return Object.entries(stats).map(
    ([h, s]) =>
      `${h.padEnd(width)} : ok=${s.ok}  changed=${s.changed}  unreachable=${s.unreachable}  failed=${s.failed}  skipped=${s.skipped}  rescued=${s.rescued}  ignored=${s.ignored}`,
  );
}

/** `host : release` per host, for deploy, rollback and restart reports. */
export function releaseLines(releases: Record<string, string>): string[] {
  const width = Math.max(10, ...Object.keys(releases).map((h) => h.length));
  return Object.entries(releases).map(([h, r]) => `${h.padEnd(width)} : ${r}`);
}

export function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}
