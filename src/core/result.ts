/** The result every module returns, in Ansible's shape (playbooks read these keys). */

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface FileDiff {
  path: string;
  before: string;
  after: string;
  /** before/after describe attributes (mode, state) rather than file content */
  header?: string;
  /** Ansible's names for what the two sides are (a registered diff is read by playbooks) */
  before_header?: string;
  after_header?: string;
}

/** A diff entry with Ansible's before_header/after_header (the path; an attribute's name after it). */
export function withDiffHeaders(d: FileDiff): FileDiff {
  const h = d.header ? `${d.path} (${d.header})` : d.path;
  return { before_header: h, after_header: h, ...d };
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
