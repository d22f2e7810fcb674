import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConnectError, NotImplementedError, errorMessage } from '../core/errors.js';
import { CONNECTIONS } from '../playbook/keywords.js';
import type { VarScope } from '../template/scope.js';
import { LocalTransport } from '../transport/local.js';
import { parseSshArgs, type SshArgs } from '../transport/ssh-args.js';
import { readUserSshConfig, type SshConfigEntry } from '../transport/ssh-config.js';
import { JumpHosts } from '../transport/jump.js';
import type { SshTarget } from '../transport/ssh-connect.js';
import { SshTransport } from '../transport/ssh.js';
import type { Transport } from '../transport/types.js';
import { connectionWithoutVariable, KEYWORD_PORT, KEYWORD_REMOTE_USER } from './scope.js';

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
  const lookup = sshConfigLookup(host, vars);
  const cfg = lookup(str(vars.get('ansible_host')) ?? host, true);
  const keyFile = str(vars.get('ansible_ssh_private_key_file')) ?? str(vars.get('ansible_private_key_file'));
  const known = str(vars.get('orch_known_hosts_file')) ?? str(vars.get('ansible_ssh_known_hosts_file'));
  const password = str(vars.get('ansible_password')) ?? str(vars.get('ansible_ssh_pass'));
  const target: SshTarget = {
    name: host,
    address: cfg.hostName ?? str(vars.get('ansible_host')) ?? host,
    // ansible_port beats the port keyword, which beats ~/.ssh/config (Ansible passes it as -o Port=)
    port: Number(vars.get('ansible_port') ?? vars.get('ansible_ssh_port') ?? vars.get(KEYWORD_PORT) ?? cfg.port ?? 22),
    // ansible_user beats the remote_user keyword, which beats ~/.ssh/config (Ansible passes it as -o User=)
    user:
      str(vars.get('ansible_user')) ??
      str(vars.get('ansible_ssh_user')) ??
      str(vars.get(KEYWORD_REMOTE_USER)) ??
      cfg.user ??
      opts.remoteUser ??
      process.env.USER ??
      'root',
    privateKeyFiles: [
      ...(keyFile ? [resolve(expandHome(keyFile))] : []),
      ...cfg.identityFiles,
      ...['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(homedir(), '.ssh', f)),
    ],
    // as OpenSSH: ssh_config's UserKnownHostsFile/GlobalKnownHostsFile, else its defaults (new keys go to the first)
    knownHostsFiles: known
      ? [resolve(expandHome(known))]
      : [
          ...(cfg.userKnownHostsFiles ?? [
            join(homedir(), '.ssh', 'known_hosts'),
            join(homedir(), '.ssh', 'known_hosts2'),
          ]),
          ...(cfg.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
        ],
    acceptNewHostKeys: opts.acceptNewHostKeys,
    connectTimeoutMs: opts.connectTimeoutMs,
    mode: (str(vars.get('orch_ssh_mode')) ?? process.env.ORCH_SSH_MODE) === 'exec' ? 'exec' : 'driver',
  };
  if (password !== undefined) target.password = password;
  if (cfg.hostKeyAlias !== undefined) target.hostKeyAlias = cfg.hostKeyAlias;
  if (cfg.proxyJump) {
    // `a,b`: through a, then b, then the host (each hop reached through the ones before it). A hop's name
    // is looked up in the ssh_config as OpenSSH's jump does (HostName, User, Port, IdentityFile, known
    // hosts), without the command line's -o options (ssh passes them to the last hop only).
    let via: SshTarget | undefined;
    for (const hop of cfg.proxyJump.split(',')) {
      const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(hop.trim());
      if (!m) throw new ConnectError(host, `cannot read ProxyJump '${cfg.proxyJump}'`);
      const hopCfg = lookup(m[2] ?? '', false);
      const next: SshTarget = {
        ...target,
        hostKeyAlias: hopCfg.hostKeyAlias,
        name: `${host} (via ${hop.trim()})`,
        address: hopCfg.hostName ?? m[2] ?? '',
        port: Number(m[3] ?? hopCfg.port ?? 22),
        user: m[1] ?? hopCfg.user ?? target.user,
        privateKeyFiles: [...hopCfg.identityFiles, ...target.privateKeyFiles],
        knownHostsFiles:
          hopCfg.userKnownHostsFiles && !known
            ? [...hopCfg.userKnownHostsFiles, ...(hopCfg.globalKnownHostsFiles ?? [])]
            : target.knownHostsFiles,
        proxyJump: via,
      };
      if (!via) delete next.proxyJump;
      if (next.hostKeyAlias === undefined) delete next.hostKeyAlias;
      via = next;
    }
    if (via) target.proxyJump = via;
  }
  return target;
}

/** ssh_config settings for a name: ~/.ssh/config or the file of `-F` in ansible_ssh_args/common_args/extra_args. */
function sshConfigLookup(
  host: string,
  vars: VarScope,
): (name: string, withOptions: boolean) => Readonly<SshConfigEntry> {
  let args: SshArgs;
  try {
    // as Ansible's ssh: ssh_args, then ssh_common_args, then ssh_extra_args (-o values: the first one wins)
    args = parseSshArgs(
      str(vars.get('ansible_ssh_args')),
      str(vars.get('ansible_ssh_common_args')),
      str(vars.get('ansible_ssh_extra_args')),
    );
  } catch (err) {
    throw new ConnectError(host, errorMessage(err), {
      hint: 'See ansible_ssh_common_args / ansible_ssh_extra_args in the inventory.',
    });
  }
  const file = args.configFile ? resolve(expandHome(args.configFile)) : undefined;
  return (name, withOptions) => {
    try {
      return readUserSshConfig(name, file, withOptions ? args.lines : [], file !== undefined);
    } catch (err) {
      throw new ConnectError(host, errorMessage(err), { hint: 'ansible_ssh_common_args names it with -F.' });
    }
  };
}

/**
 * Local or ssh, as Ansible decides: the ansible_connection variable, else local for an implicit localhost,
 * else the play/task `connection:` keyword, else ssh. Another connection plugin is refused.
 */
export function isLocal(host: string, vars: VarScope): boolean {
  // without a variable of that name, the play context's: made by connectionWithoutVariable from this scope
  const c = str(vars.get('ansible_connection')) ?? connectionWithoutVariable(host, vars);
  if (c === undefined) return false;
  const kind = CONNECTIONS[c];
  if (!kind)
    throw new NotImplementedError(`connection '${c}' is not implemented by orch (local, ssh, smart, paramiko)`);
  return kind === 'local';
}

/** Pool key: one connection per host and login (remote_user may differ between plays and tasks). */
function poolKey(host: string, vars: VarScope, opts: ConnectionOptions): string {
  if (isLocal(host, vars)) return `${host}|local`;
  const t = sshTargetFor(host, vars, opts);
  return `${host}|${t.user}@${t.address}:${t.port}`;
}

/** One connection per host for the whole run, opened on first use; a failure is remembered. */
export class ConnectionPool {
  private readonly open = new Map<string, Promise<Transport>>();
  /** One connection per bastion, shared by the hosts behind it. */
  private readonly jumps = new JumpHosts();

  constructor(private readonly opts: ConnectionOptions) {}

  get(host: string, vars: VarScope): Promise<Transport> {
    let key: string;
    try {
      key = poolKey(host, vars, this.opts);
    } catch (err) {
      return Promise.reject(err);
    }
    let p = this.open.get(key);
    if (!p) {
      p = isLocal(host, vars)
        ? Promise.resolve(new LocalTransport(host))
        : SshTransport.connect(sshTargetFor(host, vars, this.opts), this.jumps);
      this.open.set(key, p);
    }
    return p;
  }

  /**
   * Drop the host's connections and log in again (wait_for_connection, reboot): the new connection, with
   * its own connect timeout when given, is the host's from now on; a failed try leaves none behind.
   */
  async reconnect(host: string, vars: VarScope, connectTimeoutMs?: number): Promise<Transport> {
    this.drop(host);
    if (isLocal(host, vars)) return this.get(host, vars);
    const key = poolKey(host, vars, this.opts);
    const p = SshTransport.connect({
      ...sshTargetFor(host, vars, this.opts),
      ...(connectTimeoutMs ? { connectTimeoutMs } : {}),
    });
    this.open.set(key, p);
    try {
      return await p;
    } catch (err) {
      if (this.open.get(key) === p) this.open.delete(key);
      throw err;
    }
  }

  /** A fresh connection, outside the pool: proves a new login works (after sshd changes). */
  async probe(host: string, vars: VarScope): Promise<void> {
    if (isLocal(host, vars)) return;
    const t = await SshTransport.connect(sshTargetFor(host, vars, this.opts), this.jumps);
    try {
      const r = await t.exec('true');
      if (r.rc !== 0) throw new ConnectError(host, `a fresh connection could run nothing (rc=${r.rc})`);
    } finally {
      await t.close();
    }
  }

  /** Forget a host's connection (after it was lost) so the next use reconnects. */
  drop(host: string): void {
    for (const [key, p] of this.open) {
      if (!key.startsWith(`${host}|`)) continue;
      this.open.delete(key);
      p.then((t) => t.close()).catch(() => undefined);
    }
  }

  async roundTrips(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [key, p] of this.open) {
      const h = key.slice(0, key.indexOf('|'));
      try {
        out[h] = (out[h] ?? 0) + (await p).stats.roundTrips;
      } catch {
        out[h] ??= 0;
      }
    }
    return out;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.values()].map((p) => p.then((t) => t.close()).catch(() => undefined)));
    this.open.clear();
  }
}
