/** Typed errors. Only the CLI entry point turns them into exit codes. */

export interface Position {
  file: string;
  line?: number;
  col?: number;
}

export function formatPosition(pos: Position | undefined): string {
  if (!pos) return '';
  if (pos.line === undefined) return pos.file;
  return pos.col === undefined ? `${pos.file}:${pos.line}` : `${pos.file}:${pos.line}:${pos.col}`;
}

export class OrchError extends Error {
  /** What the user can do about it. */
  readonly hint?: string;
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
  }
}

/** Bad input in a file the user wrote: YAML, playbook, role, inventory, template. */
export class ParseError extends OrchError {
  readonly pos?: Position;
  constructor(message: string, pos?: Position, hint?: string) {
    super(pos ? `${formatPosition(pos)}: ${message}` : message, { hint });
    this.pos = pos;
  }
}

/**
 * An error ansible-playbook raises in the middle of a play (a changed task notifying a handler that does not exist):
 * the run stops there with exit status 1 and, as ansible-playbook's, no recap.
 */
export class PlayStoppedError extends ParseError {}

export class TemplateError extends OrchError {}

export class ConnectError extends OrchError {
  readonly host: string;
  constructor(host: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(`${host}: ${message}`, opts);
    this.host = host;
  }
}

export class HostKeyError extends ConnectError {}

/**
 * sudo/su refused to run a command as the become user (wrong password, not in sudoers, requiretty...): a task
 * failure.
 */
export class BecomeError extends OrchError {
  readonly host: string;
  /** the password itself was refused (trying it again only counts more failures against the account) */
  readonly wrongPassword: boolean;
  constructor(host: string, message: string, opts: { hint?: string; cause?: unknown; wrongPassword?: boolean } = {}) {
    super(`${host}: ${message}`, opts);
    this.host = host;
    this.wrongPassword = opts.wrongPassword ?? false;
  }
}

export class ModuleError extends OrchError {}

/** A module, parameter or keyword Ansible has and orch does not implement: raised when a host reaches the task. */
export class NotImplementedError extends ModuleError {}

export class LockError extends OrchError {}

export class UsageError extends OrchError {}

export class InternalError extends OrchError {}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
