import { readFileSync } from 'node:fs';
import { parse as parseYamlText } from 'yaml';
import { UsageError } from '../core/errors.js';
import { parseKeyValueArgs } from '../playbook/args.js';

function parseText(text: string, what: string): unknown {
  try {
    return parseYamlText(text, { version: '1.1' }) as unknown;
  } catch (err) {
    throw new UsageError(`-e ${what}: not valid JSON/YAML: ${(err as Error).message.split('\n')[0]}`, {
      hint: 'Use -e name=value, -e \'{"name": 1}\' or -e @file.yml',
    });
  }
}

/** -e forms, as ansible-playbook: k=v pairs, JSON/YAML text, or @file. Later ones win. */
export function parseExtraVars(values: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values) {
    if (v.startsWith('@')) {
      let text: string;
      try {
        text = readFileSync(v.slice(1), 'utf8');
      } catch (err) {
        throw new UsageError(
          `-e ${v}: cannot read ${v.slice(1)} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        );
      }
      const data = parseText(text, v);
      if (!data || typeof data !== 'object' || Array.isArray(data))
        throw new UsageError(`-e ${v}: the file must hold a mapping`);
      Object.assign(out, data);
    } else if (/^\s*[{[]/.test(v)) {
      const data = parseText(v, `'${v}'`);
      if (!data || typeof data !== 'object' || Array.isArray(data)) throw new UsageError(`-e ${v}: expected a mapping`);
      Object.assign(out, data);
    } else {
      const kv = parseKeyValueArgs(v);
      if (kv._raw_params !== undefined)
        throw new UsageError(`-e '${v}': expected key=value`, {
          hint: 'Use -e name=value, -e \'{"name": 1}\' or -e @file.yml',
        });
      Object.assign(out, kv);
    }
  }
  return out;
}

export function splitList(values: string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s);
}
