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
