import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure } from './types.js';
import { fileWriteParams } from './remote-file.js';

/** community.crypto.openssh_keypair with ssh-keygen (its opensshbin backend). */
interface KeyState {
  exists: boolean;
  size?: number;
  type?: string;
  fingerprint?: string;
  comment?: string;
  publicKey?: string;
}

const DEFAULT_SIZE: Record<string, number> = { rsa: 4096, dsa: 1024, ecdsa: 256, ed25519: 256, rsa1: 2048 };

/** `ssh-keygen -l` prints "4096 SHA256:… comment (RSA)". */
export function parseKeygenList(line: string): Pick<KeyState, 'size' | 'fingerprint' | 'comment' | 'type'> {
  const m = /^(\d+)\s+(\S+)\s+(.*?)\s*\((\w+)\)\s*$/.exec(line.trim());
  if (!m) return {};
  return {
    size: Number(m[1]),
    fingerprint: m[2],
    comment: m[3] === 'no comment' ? '' : m[3],
    type: (m[4] ?? '').toLowerCase(),
  };
}

/** Whether a key that exists is kept, as `regenerate` says (partial_idempotence: when its type and size match). */
export function keepKey(p: Params, s: KeyState): boolean {
  const mode = String(p.regenerate ?? 'partial_idempotence');
  if (p.force === true || mode === 'always') return false;
  if (mode === 'never') return true;
  const type = String(p.type ?? 'rsa');
  const size = Number(p.size ?? DEFAULT_SIZE[type] ?? 0);
  const matches =
    s.type === type &&
    (type === 'ed25519' || s.size === size) &&
    (mode !== 'full_idempotence' || p.comment === undefined || s.comment === p.comment);
  if (!matches && mode === 'fail')
    throw new ModuleFailure(
      'Key has wrong type and/or size. Will not proceed. To force regeneration, call the module with `generate` set to `full_idempotence` or `always`, or with `force=yes`.',
    );
  return matches;
}

export const opensshKeypair = defineStateModule<KeyState, 'generate' | 'remove'>({
  name: 'openssh_keypair',
  spec: {
    params: {
      path: { type: 'path', support: 'full', required: true },
      type: { type: 'str', support: 'full', default: 'rsa', choices: ['rsa', 'dsa', 'rsa1', 'ecdsa', 'ed25519'] },
      size: { type: 'int', support: 'full' },
      state: { type: 'str', support: 'full', default: 'present', choices: ['present', 'absent'] },
      force: { type: 'bool', support: 'full', default: false },
      comment: { type: 'str', support: 'full' },
      regenerate: {
        type: 'str',
        support: 'full',
        default: 'partial_idempotence',
        choices: ['never', 'fail', 'partial_idempotence', 'full_idempotence', 'always'],
      },
      passphrase: { type: 'str', support: 'none', note: 'keys are written without a passphrase', noLog: true },
      private_key_format: {
        type: 'str',
        support: 'partial',
        note: 'what ssh-keygen writes (auto)',
        default: 'auto',
        choices: ['auto', 'pkcs1', 'pkcs8', 'ssh'],
      },
      backend: {
        type: 'str',
        support: 'partial',
        note: 'ssh-keygen (opensshbin)',
        default: 'auto',
        choices: ['auto', 'cryptography', 'opensshbin'],
      },
      mode: fileWriteParams.mode,
      owner: fileWriteParams.owner,
      group: fileWriteParams.group,
    },
  },
  async query(ctx, p) {
    const path = String(p.path);
    const r = await ctx.run(
      sh`if [ -f ${path} ]; then ssh-keygen -l -f ${path} 2>/dev/null || echo INVALID; cat -- ${`${path}.pub`} 2>/dev/null; fi`,
    );
    const [first = '', pub = ''] = r.stdout.split('\n');
    if (first === '') return { exists: false };
    return {
      exists: true,
      ...(first === 'INVALID' ? {} : parseKeygenList(first)),
      publicKey: pub.trim().split(/\s+/).slice(0, 2).join(' '),
    };
  },
  plan(p, s) {
    if (p.state === 'absent') return s.exists ? { changes: 'remove' } : null;
    return s.exists && keepKey(p, s) ? null : { changes: 'generate' };
  },
  describe: (p, s) => ({
    filename: p.path,
    size: s.size,
    type: s.type,
    fingerprint: s.fingerprint,
    public_key: s.publicKey,
    comment: s.comment ?? '',
  }),
  async apply(ctx, p, change) {
    const path = String(p.path);
    if (change === 'remove') {
      const r = await ctx.run(sh`rm -f -- ${path} ${`${path}.pub`}`);
      if (r.rc !== 0) throw commandFailed('removing the keypair', r);
      return { filename: path };
    }
    const type = String(p.type ?? 'rsa');
    const size = p.size ?? DEFAULT_SIZE[type];
    const bits = type === 'ed25519' || size === undefined ? [] : ['-b', String(size)];
    const attrs = [
      p.mode ? sh`chmod ${String(p.mode)} -- ${path}` : '',
      p.owner || p.group
        ? sh`chown -- ${`${(p.owner as string | undefined) ?? ''}${p.group ? `:${String(p.group)}` : ''}`} ${path} ${`${path}.pub`}`
        : '',
    ].filter(Boolean);
    const r = await ctx.run(
      [
        sh`rm -f -- ${path} ${`${path}.pub`}`,
        sh`ssh-keygen -q -t ${type} ${bits} -N ${''} -C ${String(p.comment ?? '')} -f ${path}`,
        ...attrs,
        sh`ssh-keygen -l -f ${path}`,
        sh`cat -- ${`${path}.pub`}`,
      ].join(' && '),
    );
    if (r.rc !== 0) throw commandFailed('ssh-keygen', r);
    const [list = '', pub = ''] = r.stdout.trim().split('\n');
    const k = parseKeygenList(list);
    return {
      filename: path,
      size: k.size,
      type: k.type,
      fingerprint: k.fingerprint,
      comment: k.comment ?? '',
      public_key: pub.trim().split(/\s+/).slice(0, 2).join(' '),
    };
  },
});
