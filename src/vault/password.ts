import { accessSync, constants, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { Secrets } from '../core/secrets.js';
import { VaultError } from './format.js';

/** Like Ansible: an executable password file is run and its output is the password; otherwise its first line. */
export function readPasswordFile(file: string): string {
  const path = resolve(file);
  let executable = false;
  try {
    accessSync(path, constants.X_OK);
    executable = true;
  } catch {
    /* a plain file */
  }
  try {
    const text = executable
      ? execFileSync(path, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      : readFileSync(path, 'utf8');
    const p = text.split('\n')[0]?.trimEnd() ?? '';
    if (!p) throw new VaultError(`vault password file ${file} is empty`);
    return p;
  } catch (err) {
    if (err instanceof VaultError) throw err;
    throw new VaultError(
      `cannot read the vault password file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** --vault-password-file, or ORCH_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_PASSWORD_FILE. */
export function configureVaultFromFile(secrets: Secrets, file: string | undefined): void {
  const f = file ?? process.env.ORCH_VAULT_PASSWORD_FILE ?? process.env.ANSIBLE_VAULT_PASSWORD_FILE;
  if (f) secrets.setVaultPassword(readPasswordFile(f));
}

/** The invocation's vault password, for the loaders when they meet vault data (`where`: the file, or file:line). */
export function vaultPassword(secrets: Secrets, where: string): string {
  const password = secrets.vaultPassword;
  if (password === undefined) {
    throw new VaultError(`${where} is encrypted with ansible-vault and no vault password was given`, {
      hint: 'Give one with --vault-password-file FILE or --ask-vault-pass (or set ORCH_VAULT_PASSWORD_FILE).',
    });
  }
  return password;
}

/** Read a password from the terminal without echo. */
export async function promptPassword(question: string): Promise<string> {
  const { stdin, stderr } = process;
  if (!stdin.isTTY)
    throw new VaultError('--ask-vault-pass needs a terminal', {
      hint: 'Use --vault-password-file FILE when not on a terminal.',
    });
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  let typed = '';
  try {
    await new Promise<void>((done, fail) => {
      const onData = (b: Buffer) => {
        for (const ch of b.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return finish(done);
          if (ch === '\u0003') return finish(() => fail(new VaultError('cancelled')));
          if (ch === '\u007f') typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      const finish = (f: () => void) => {
        stdin.off('data', onData);
        f();
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    stderr.write('\n');
  }
  return typed;
}
