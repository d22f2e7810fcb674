/**
 * Values that must never reach an output: vault plaintext, passwords. Whoever learns a secret registers
 * it here; every output (TUI, lines, NDJSON, run log, error messages) is passed through a Redactor that
 * reads this list. Lives in core so the executor and loaders never import the UI.
 */
const secrets = new Set<string>();

/** Register a string, or every string inside an object or list (short strings would redact noise). */
export function registerSecret(value: unknown): void {
  if (typeof value === 'string') {
    if (value.length >= 4) {
      secrets.add(value);
      // and as it appears inside JSON (quotes, backslashes, newlines escaped)
      const inJson = JSON.stringify(value).slice(1, -1);
      if (inJson !== value) secrets.add(inJson);
    }
    // a multi-line secret also leaks line by line (stdout_lines, diffs)
    if (value.includes('\n')) for (const l of value.split('\n')) if (l.trim().length >= 6) secrets.add(l.trim());
  } else if (Array.isArray(value)) value.forEach(registerSecret);
  else if (value && typeof value === 'object') Object.values(value).forEach(registerSecret);
  else if (typeof value === 'number' && String(value).length >= 6) secrets.add(String(value));
}

export function knownSecrets(): ReadonlySet<string> {
  return secrets;
}

/** Replace every registered secret in a text. */
export function redactText(s: string): string {
  let out = s;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('********');
  return out;
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

/**
 * Register the literal password values of a vars mapping (templated ones are registered when read:
 * template/scope.ts).
 */
export function registerPasswordVars(vars: Record<string, unknown>): void {
  for (const name of PASSWORD_VARS) {
    const v = vars[name];
    if (v !== undefined && v !== null && !(typeof v === 'string' && v.includes('{{')))
      registerSecret(typeof v === 'string' ? v : String(v));
  }
}
