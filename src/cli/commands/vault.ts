import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../../core/errors.js';
import { EXIT } from '../../executor/run.js';
import { isVaulted, VaultError, vaultDecrypt, vaultEncrypt } from '../../vault/format.js';
import { promptPassword, readPasswordFile } from '../../vault/password.js';

const USAGE = `usage: orch vault encrypt|decrypt|view|edit FILE... [--vault-password-file F]
       orch vault encrypt_string [--name VAR] [STRING]   (reads stdin when STRING is absent)
Files are read and written in ansible-vault's 1.1 format: existing vault files work as they are.
`;

const FLAGS = {
  'vault-password-file': { type: 'string' },
  'vault-id': { type: 'string' },
  name: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function password(file: string | undefined, confirm: boolean): Promise<string> {
  const f = file ?? process.env.ORCH_VAULT_PASSWORD_FILE ?? process.env.ANSIBLE_VAULT_PASSWORD_FILE;
  if (f) return readPasswordFile(f);
  const p = await promptPassword('Vault password: ');
  if (confirm && (await promptPassword('Confirm vault password: ')) !== p)
    throw new VaultError('the two passwords differ: nothing written');
  if (!p) throw new VaultError('an empty vault password is not allowed');
  return p;
}

/** Replace a file's content atomically (same directory, same mode): an interrupted write loses nothing. */
function replaceFile(file: string, content: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.orch-${process.pid}`);
  writeFileSync(tmp, content, { mode: statSync(file).mode & 0o777 });
  renameSync(tmp, file);
}

function readText(file: string): string {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  return readFileSync(file, 'utf8');
}

function edit(file: string, pw: string): void {
  const exists = existsSync(file);
  const plain = exists ? vaultDecrypt(readText(file), pw, file) : '';
  // The plaintext only ever lives in a private directory, removed whatever happens.
  const dir = mkdtempSync(join(tmpdir(), 'orch-vault-'));
  chmodSync(dir, 0o700);
  const tmp = join(dir, basename(file));
  try {
    writeFileSync(tmp, plain, { mode: 0o600 });
    const editor = process.env.VISUAL ?? process.env.EDITOR ?? 'vi';
    const r = spawnSync('sh', ['-c', `${editor} "$1"`, 'editor', tmp], { stdio: 'inherit' });
    if (r.status !== 0) throw new VaultError(`the editor (${editor}) exited with ${r.status}: ${file} left as it was`);
    const after = readFileSync(tmp, 'utf8');
    if (after === plain && exists) return;
    if (exists) replaceFile(file, vaultEncrypt(after, pw));
    else writeFileSync(file, vaultEncrypt(after, pw), { mode: 0o600 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function vaultCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: FLAGS, allowPositionals: true });
  const [sub, ...files] = positionals;
  if (values.help || !sub) {
    process.stdout.write(USAGE);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const label = values['vault-id']?.split('@')[0];
  const pwFile =
    values['vault-password-file'] ?? (values['vault-id']?.includes('@') ? values['vault-id'].split('@')[1] : undefined);
  if (sub === 'encrypt_string') {
    const text = files.length > 0 ? files.join(' ') : readFileSync(0, 'utf8').replace(/\n$/, '');
    const pw = await password(pwFile, true);
    const body = vaultEncrypt(text, pw, label).trimEnd().replace(/^/gm, '          ');
    process.stdout.write(`${values.name ?? 'secret'}: !vault |\n${body}\n`);
    return EXIT.ok;
  }
  if (!['encrypt', 'decrypt', 'view', 'edit'].includes(sub))
    throw new UsageError(`unknown vault action '${sub}'`, { hint: USAGE.split('\n')[0] });
  if (files.length === 0) throw new UsageError(`orch vault ${sub} needs a FILE`);
  const pw = await password(pwFile, sub === 'encrypt' || (sub === 'edit' && !existsSync(files[0] ?? '')));
  for (const file of files) {
    if (sub === 'edit') edit(file, pw);
    else {
      const text = readText(file);
      if (sub === 'encrypt') {
        if (isVaulted(text))
          throw new VaultError(`${file} is already encrypted`, {
            hint: 'orch vault edit changes it; orch vault decrypt undoes it.',
          });
        replaceFile(file, vaultEncrypt(text, pw, label));
      } else if (!isVaulted(text)) throw new VaultError(`${file} is not encrypted with ansible-vault`);
      else if (sub === 'decrypt') replaceFile(file, vaultDecrypt(text, pw, file));
      else process.stdout.write(vaultDecrypt(text, pw, file));
    }
    if (sub !== 'view')
      process.stderr.write(`${sub === 'edit' ? 'Edited' : sub === 'encrypt' ? 'Encrypted' : 'Decrypted'} ${file}\n`);
  }
  return EXIT.ok;
}
