import type { Secrets } from '../core/secrets.js';
import { configureVaultFromFile, promptPassword } from '../vault/password.js';
import { ansibleSettings } from './ansible-cfg.js';

/** The vault options of every command that loads an inventory (group_vars may be vault files). */
export const VAULT_FLAGS = {
  'vault-password-file': { type: 'string' },
  'ask-vault-pass': { type: 'boolean', default: false },
} as const;

/**
 * --ask-vault-pass, else --vault-password-file, ORCH_/ANSIBLE_VAULT_PASSWORD_FILE or ansible.cfg's
 * vault_password_file.
 */
export async function configureVault(
  secrets: Secrets,
  v: {
    'vault-password-file'?: string | boolean | (string | boolean)[];
    'ask-vault-pass'?: string | boolean | (string | boolean)[];
  },
  settingsFile = ansibleSettings().vaultPasswordFile,
): Promise<void> {
  if (v['ask-vault-pass'] === true) secrets.setVaultPassword(await promptPassword('Vault password: '));
  else
    configureVaultFromFile(
      secrets,
      typeof v['vault-password-file'] === 'string' ? v['vault-password-file'] : settingsFile,
    );
}
