import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT } from '../../executor/run.js';
import { playbookSchema } from '../../playbook/schema.js';

/**
 * `orch schema [--out FILE]`: the JSON Schema of playbooks, task files and handler files, generated from the
 * module specs and keyword tables, for editors with a YAML language server (completion, typos flagged).
 */
export function schemaCommand(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string', short: 'o' } } });
  const text = `${JSON.stringify(playbookSchema(), null, 1)}\n`;
  if (values.out === undefined) {
    process.stdout.write(text);
    return EXIT.ok;
  }
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, text);
  process.stderr.write(`wrote ${values.out}\n`);
  return EXIT.ok;
}
