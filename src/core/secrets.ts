/**
 * Values that must never reach an output: vault plaintext, passwords. One registry per CLI invocation (cli/main.ts
 * makes it), handed down explicitly: loaders register what they decrypt or read as a password, the executor what
 * templates and no_log parameters reveal, and every output (TUI, lines, NDJSON, run log, error messages) is passed
 * through its redact. It also holds the vault password of the invocation (vault/password.ts reads it). Lives in
 * core so the executor and loaders never import the UI.
 */
export class Secrets {
  private readonly values = new Set<string>();
  private vault: string | undefined;

  /** Register a string, or every string inside an object or list (short strings would redact noise). */
  register(value: unknown): void {
    if (typeof value === 'string') {
      if (value.length >= 4) {
        this.values.add(value);
        // and as it appears inside JSON (quotes, backslashes, newlines escaped)
        const inJson = JSON.stringify(value).slice(1, -1);
        if (inJson !== value) this.values.add(inJson);
      }
      // a multi-line secret also leaks line by line (stdout_lines, diffs)
      if (value.includes('\n')) for (const l of value.split('\n')) if (l.trim().length >= 6) this.values.add(l.trim());
    } else if (Array.isArray(value)) for (const v of value) this.register(v);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) this.register(v);
    else if (typeof value === 'number' && String(value).length >= 6) this.values.add(String(value));
  }

  /**
   * Register the literal password values of a vars mapping (templated ones are registered when read:
   * template/scope.ts).
   */
  registerPasswordVars(vars: Record<string, unknown>): void {
    for (const name of PASSWORD_VARS) {
      const v = vars[name];
      if (v !== undefined && v !== null && !(typeof v === 'string' && v.includes('{{')))
        this.register(typeof v === 'string' ? v : String(v));
    }
  }

  known(): ReadonlySet<string> {
    return this.values;
  }

  /** Replace every registered secret in a text. */
  redact(s: string): string {
    let out = s;
    for (const secret of this.values) if (out.includes(secret)) out = out.split(secret).join('********');
    return out;
  }

  /** The vault password (--vault-password-file, --ask-vault-pass): a secret itself. */
  setVaultPassword(p: string): void {
    this.vault = p;
    this.register(p);
  }

  /** undefined when none was given (vault/password.ts vaultPassword says so with a hint). */
  get vaultPassword(): string | undefined {
    return this.vault;
  }
}

/**
 * Connection and sudo passwords: their values are secrets wherever they are set (inventory, vars, -e), vaulted or
 * not.
 */
export const PASSWORD_VARS: ReadonlySet<string> = new Set([
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_sudo_pass',
  'ansible_sudo_password',
  'ansible_su_pass',
  'ansible_su_password',
]);
