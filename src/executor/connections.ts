import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConnectError } from '../core/errors.js';
import type { VarScope } from '../template/scope.js';
import { LocalTransport } from '../transport/local.js';
import { readUserSshConfig } from '../transport/ssh-config.js';
import { SshTransport, type SshTarget } from '../transport/ssh.js';
import type { Transport } from '../transport/types.js';

export interface ConnectionOptions {
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  /** default user when the inventory names none */
  remoteUser?: string;
}

function str(v: unknown): string | undefined {
  return v === undefined || v === null || v === '' ? undefined : String(v);
}

function expandHome(p: string): string {
  return p.startsWith('~/') ? join(homedir(), p.slice(2)) : p;
}

/** Inventory variables (Ansible's names) + ~/.ssh/config → where and how to connect. */
export function sshTargetFor(host: string, vars: VarScope, opts: ConnectionOptions): SshTarget {
  const cfg = readUserSshConfig(str(vars.get('ansible_host')) ?? host);
  const keyFile = str(vars.get('ansible_ssh_private_key_file')) ?? str(vars.get('ansible_private_key_file'));
  const known = str(vars.get('orch_known_hosts_file')) ?? str(vars.get('ansible_ssh_known_hosts_file'));
  const password = str(vars.get('ansible_password')) ?? str(vars.get('ansible_ssh_pass'));
  const target: SshTarget = {
    name: host,
    address: cfg.hostName ?? str(vars.get('ansible_host')) ?? host,
    port: Number(vars.get('ansible_port') ?? cfg.port ?? 22),
    user: str(vars.get('ansible_user')) ?? str(vars.get('ansible_ssh_user')) ?? cfg.user ?? opts.remoteUser ?? process.env.USER ?? 'root',
    privateKeyFiles: [
      ...(keyFile ? [resolve(expandHome(keyFile))] : []),
      ...cfg.identityFiles,
      ...['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)),
    ],
    // as OpenSSH: ssh_config's UserKnownHostsFile/GlobalKnownHostsFile, else its defaults (new keys go to the first)
    knownHostsFiles: known
      ? [resolve(expandHome(known))]
      : [
          ...(cfg.userKnownHostsFiles ?? [join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2')]),
          ...(cfg.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
        ],
    acceptNewHostKeys: opts.acceptNewHostKeys,
    connectTimeoutMs: opts.connectTimeoutMs,
    mode: (str(vars.get('orch_ssh_mode')) ?? process.env.ORCH_SSH_MODE) === 'exec' ? 'exec' : 'driver',
  };
  if (password !== undefined) target.password = password;
  if (cfg.hostKeyAlias !== undefined) target.hostKeyAlias = cfg.hostKeyAlias;
  if (cfg.proxyJump) {
    // `a,b`: through a, then b, then the host (each hop reached through the ones before it)
    let via: SshTarget | undefined;
    for (const hop of cfg.proxyJump.split(',')) {
      const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(hop.trim());
      if (!m) throw new ConnectError(host, `cannot read ProxyJump '${cfg.proxyJump}' in ~/.ssh/config`);
      const next: SshTarget = { ...target, hostKeyAlias: undefined, name: `${host} (via ${hop.trim()})`, address: m[2] ?? '', port: Number(m[3] ?? 22), user: m[1] ?? target.user, proxyJump: via };
      if (!via) delete next.proxyJump;
      via = next;
    }
    if (via) target.proxyJump = via;
  }
  return target;
}

export function isLocal(host: string, vars: VarScope): boolean {
  const c = str(vars.get('ansible_connection'));
  return c === 'local' || (c === undefined && (host === 'localhost' || host === '127.0.0.1') && vars.get('ansible_host') === undefined);
}

/** One connection per host for the whole run, opened on first use; a failure is remembered. */
export class ConnectionPool {
  private readonly open = new Map<string, Promise<Transport>>();

  constructor(private readonly opts: ConnectionOptions) {}

  get(host: string, vars: VarScope): Promise<Transport> {
    let p = this.open.get(host);
    if (!p) {
      p = isLocal(host, vars) ? Promise.resolve(new LocalTransport(host)) : SshTransport.connect(sshTargetFor(host, vars, this.opts));
      this.open.set(host, p);
    }
    return p;
  }

  /** A fresh connection, outside the pool: proves a new login works (after sshd changes). */
  async probe(host: string, vars: VarScope): Promise<void> {
    if (isLocal(host, vars)) return;
    const t = await SshTransport.connect(sshTargetFor(host, vars, this.opts));
    try {
      const r = await t.exec('true');
      if (r.rc !== 0) throw new ConnectError(host, `a fresh connection could run nothing (rc=${r.rc})`);
    } finally {
      await t.close();
    }
  }

  /** Forget a host's connection (after it was lost) so the next use reconnects. */
  drop(host: string): void {
    const p = this.open.get(host);
    this.open.delete(host);
    p?.then((t) => t.close()).catch(() => undefined);
  }

  async roundTrips(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [h, p] of this.open) {
      try {
        out[h] = (await p).stats.roundTrips;
      } catch {
        out[h] = 0;
      }
    }
    return out;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.values()].map((p) => p.then((t) => t.close()).catch(() => undefined)));
    this.open.clear();
  }
}

export function isConnectError(err: unknown): err is ConnectError {
  return err instanceof ConnectError;
}
