/** The result every module returns, in Ansible's shape (playbooks read these keys). */

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface FileDiff {
  path: string;
  before: string;
  after: string;
  /** before/after describe attributes (mode, state) rather than file content */
  header?: string;
}

export interface ModuleResult {
  changed: boolean;
  failed?: boolean;
  skipped?: boolean;
  unreachable?: boolean;
  msg?: unknown;
  rc?: number;
  stdout?: string;
  stderr?: string;
  diff?: FileDiff[];
  /** Variables a module sets for the host (set_fact, include_vars). */
  ansible_facts?: Record<string, unknown>;
  warnings?: string[];
  [key: string]: unknown;
}

export function statusOf(r: ModuleResult): HostStatus {
  if (r.unreachable) return 'unreachable';
  if (r.failed) return 'failed';
  if (r.skipped) return 'skipped';
  return r.changed ? 'changed' : 'ok';
}
