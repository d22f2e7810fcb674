import { createPatch } from 'diff';
import type { FileDiff } from '../core/result.js';

/**
 * Unified diff text of one planned or made change, for display (the TUI colours it). Modules return the data
 * (core/result.ts FileDiff: path, before, after, or a one-line header such as mode or owner); only the UI renders it.
 */
export function unifiedDiff(d: FileDiff): string {
  // Ansible's `prepared` diff (git, unarchive) is already text to show as it is
  if (d.header === 'prepared') return d.after.endsWith('\n') ? d.after : `${d.after}\n`;
  if (d.header) return `--- ${d.path} (${d.header})\n-${d.before}\n+${d.after}\n`;
  return createPatch(d.path, d.before, d.after, 'before', 'after').split('\n').slice(1).join('\n');
}
