/**
 * Warnings found while files load (before a run has its event stream): the command that loaded them emits each
 * as a `warning` event. Like the secrets registry, a process-wide list until loaders get the run's context.
 */
const pending: string[] = [];

export function noteLoadWarning(msg: string): void {
  if (!pending.includes(msg)) pending.push(msg);
}

export function takeLoadWarnings(): string[] {
  return pending.splice(0, pending.length);
}
