import { ModuleFailure } from './types.js';

/** One line of a PAM service file as community.general.pamd models it (see pam-service.ts): parse, layout, validate. */

const RULE = /(-?(?:auth|account|session|password))\s+(\[.*\]|\S*)\s+(\S*)\s*(.*)\s*/;
export const VALID_TYPES = ['account', '-account', 'auth', '-auth', 'password', '-password', 'session', '-session'];
const SIMPLE_CONTROLS = ['required', 'requisite', 'sufficient', 'optional', 'include', 'substack', 'definitive'];
const CONTROL_VALUES = [
  'success',
  'open_err',
  'symbol_err',
  'service_err',
  'system_err',
  'buf_err',
  'perm_denied',
  'auth_err',
  'cred_insufficient',
  'authinfo_unavail',
  'user_unknown',
  'maxtries',
  'new_authtok_reqd',
  'acct_expired',
  'session_err',
  'cred_unavail',
  'cred_expired',
  'cred_err',
  'no_module_data',
  'conv_err',
  'authtok_err',
  'authtok_recover_err',
  'authtok_lock_busy',
  'authtok_disable_aging',
  'try_again',
  'ignore',
  'abort',
  'authtok_expired',
  'module_unknown',
  'bad_item',
  'conv_again',
  'incomplete',
  'default',
];
const CONTROL_ACTIONS = ['ignore', 'bad', 'die', 'ok', 'done', 'reset'];

/** pamd's parse_module_arguments: `[...]` (greedy) or a run of non-blanks; a list of one empty string is none. */
export function parseArgs(args: unknown): string[] {
  if (args === undefined || args === null) return [];
  const list = Array.isArray(args) ? args.map(String) : [String(args)];
  if (list.length === 1 && !list[0]) return [];
  return list.flatMap((a) => a.match(/\[.*\]|\S+/g) ?? []);
}

export type Kind = 'comment' | 'include' | 'empty' | 'rule';

export class Line {
  prev: Line | undefined;
  next: Line | undefined;
  /** a rule's control: a word, or the words inside [...] split at single spaces */
  private control: string | string[] = '';

  constructor(
    readonly kind: Kind,
    readonly text: string,
    public type = '',
    control = '',
    public path = '',
    public args: string[] = [],
  ) {
    if (kind === 'rule') this.setControl(control);
  }

  static parse(line: string): Line {
    const t = line.trimStart();
    if (t.startsWith('#')) return new Line('comment', line);
    if (t.startsWith('@include')) return new Line('include', line);
    if (line.trim() === '') return new Line('empty', line);
    const m = RULE.exec(line);
    // (the Python module dies here on an AttributeError)
    if (!m) throw new ModuleFailure(`Unable to parse the PAM rule: ${line}`);
    return new Line('rule', line, m[1], m[2], m[3], parseArgs(m[4]));
  }

  get controlText(): string {
    return Array.isArray(this.control) ? `[${this.control.join(' ')}]` : this.control;
  }

  setControl(c: string): void {
    this.control = c.startsWith('[') ? c.replace(/ = /g, '=').replace(/\[/g, '').replace(/\]/g, '').split(' ') : c;
  }

  /** As pamd: the control is compared with the parameter as given (a bracketed one in pamd's spelling). */
  matches(type: string | undefined, control: string | undefined, path: string | undefined): boolean {
    return this.kind === 'rule' && type === this.type && control === this.controlText && path === this.path;
  }

  toString(): string {
    if (this.kind !== 'rule') return this.text;
    const head = `${this.type.padEnd(11)}${this.controlText} ${this.path}`;
    return this.args.length > 0 ? `${head} ${this.args.join(' ')}` : head;
  }

  /** pamd's validate(): [valid, message]. */
  validate(): [boolean, string] {
    const ok: [boolean, string] = [true, `Rule is valid ${this.toString()}`];
    if (this.kind === 'comment') return this.text.startsWith('#') ? ok : [false, `Rule is not valid ${this.text}`];
    if (this.kind === 'include')
      return this.text.startsWith('@include') ? ok : [false, `Rule is not valid ${this.text}`];
    if (this.kind === 'empty') return ok;
    const line = this.toString();
    if (!VALID_TYPES.includes(this.type)) return [false, `Rule type, ${this.type}, is not valid in rule ${line}`];
    if (!Array.isArray(this.control))
      return SIMPLE_CONTROLS.includes(this.control)
        ? ok
        : [false, `Rule control, ${this.control}, is not valid in rule ${line}`];
    for (const c of this.control) {
      const parts = c.split('=');
      if (parts.length !== 2) throw new ModuleFailure(`not enough values to unpack (expected 2, got ${parts.length})`);
      const [value = '', action = ''] = parts;
      if (!CONTROL_VALUES.includes(value)) return [false, `Rule control value, ${value}, is not valid in rule ${line}`];
      if (!CONTROL_ACTIONS.includes(action) && !/^\s*[+-]?\d+\s*$/.test(action))
        return [false, `Rule control action, ${action}, is not valid in rule ${line}`];
      if (/^\s*-\d+\s*$/.test(action) && Number(action) < 0)
        return [false, `Rule control action, ${action}, is not valid in rule ${line}`];
    }
    return ok;
  }
}
