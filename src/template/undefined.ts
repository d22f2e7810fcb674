import { TemplateError } from '../core/errors.js';

/**
 * A variable that does not exist. Like Ansible's StrictUndefined: `default`, `is defined` and `is undefined`
 * may look at it; printing it, comparing it or doing arithmetic with it is an error naming the variable.
 */
export class Undefined {
  constructor(
    readonly name: string,
    readonly reason = `'${name}' is undefined`,
  ) {}
  fail(): never {
    throw new UndefinedVariableError(this.reason, this.name);
  }
  toString(): string {
    return this.fail();
  }
  valueOf(): never {
    return this.fail();
  }
  [Symbol.toPrimitive](): never {
    return this.fail();
  }
  toJSON(): never {
    return this.fail();
  }
}

export class UndefinedVariableError extends TemplateError {
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message, {
      hint: `Define '${variable.split('.')[0]}' (vars, inventory, -e) or guard it with \`| default(...)\` or \`is defined\`.`,
    });
  }
}

export function isUndefined(v: unknown): v is Undefined | undefined {
  return v === undefined || v instanceof Undefined;
}
