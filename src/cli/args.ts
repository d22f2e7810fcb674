import { readFileSync } from 'node:fs';
import { parse as parseYamlText } from 'yaml';
import { UsageError } from '../core/errors.js';
import { parseKeyValueArgs } from '../playbook/args.js';

/** -e forms, as ansible-playbook: k=v pairs, JSON/YAML text, or @file. Later ones win. */
export function parseExtraVars(values: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values) {
    if (v.startsWith('@')) {
      const data = parseYamlText(readFileSync(v.slice(1), 'utf8'), { version: '1.1' }) as unknown;
      if (!data || typeof data !== 'object' || Array.isArray(data)) throw new UsageError(`-e ${v}: the file must hold a mapping`);
      Object.assign(out, data);
    } else if (/^\s*[{[]/.test(v)) {
      const data = parseYamlText(v, { version: '1.1' }) as unknown;
      if (!data || typeof data !== 'object' || Array.isArray(data)) throw new UsageError(`-e ${v}: expected a mapping`);
      Object.assign(out, data);
    } else {
      const kv = parseKeyValueArgs(v);
      if (kv._raw_params !== undefined) throw new UsageError(`-e '${v}': expected key=value`, { hint: 'Use -e name=value, -e \'{"name": 1}\' or -e @file.yml' });
      Object.assign(out, kv);
    }
  }
  return out;
}

export function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s);
}
