import { TemplateError } from '../core/errors.js';

/**
 * A value `orch plan` (and --check) cannot know before applying: the registered result of a command that
 * would run, a fact set from one. Reading it in a template stops that template: the task that read it
 * is reported unknown, with why, and the run goes on.
 */
export class Unknown {
  /** reason: "depends on <task> (file:line)" */
  constructor(readonly reason: string) {}
}

export class UnknownValueError extends TemplateError {
  constructor(readonly reason: string) {
    super(`unknown: ${reason}`);
  }
}

/** Throw when a variable's value is unknown (called where variables are read). */
export function failIfUnknown(v: unknown): void {
  if (v instanceof Unknown) throw new UnknownValueError(v.reason);
}
