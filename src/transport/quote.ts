/**
 * The one place shell strings are built. Every user value that reaches a remote shell goes through
 * `quote`; modules assemble commands with `sh` (a tagged template that quotes interpolations).
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX single-quote a value so the shell reads it back verbatim. */
export function quote(value: string | number): string {
  const s = String(value);
  if (s !== '' && SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote each argument and join them: an argv as one shell string. */
export function shellJoin(args: readonly (string | number)[]): string {
  return args.map(quote).join(' ');
}

/** A piece of shell text that is already safe, to pass through `sh` unquoted. */
export class Raw {
  constructor(readonly text: string) {}
}

export function raw(text: string): Raw {
  return new Raw(text);
}

type ShValue = string | number | Raw | readonly (string | number)[];

/** sh`cmd ${value}`: literal parts as written, every interpolation quoted (arrays become several words). */
export function sh(strings: TemplateStringsArray, ...values: ShValue[]): string {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    if (v instanceof Raw) out += v.text;
    else if (Array.isArray(v)) out += shellJoin(v);
    else out += quote(v as string | number);
    out += strings[i + 1] ?? '';
  });
  return out;
}
