import { readFileSync } from 'node:fs';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import { BecomeError, ConnectError, HostKeyError, OrchError, errorMessage } from '../core/errors.js';
import { BecomeHandshake } from './become.js';
import { JumpHosts, type Opened } from './jump.js';
import { knownHostsName, recordHostKey, verifyHostKey, type HostKeyVerdict } from './known-hosts.js';
import { DRIVER_COMMAND, DriverSession, InFlight, StaleSession } from './driver.js';
import { BoundedOutput } from './output.js';
import type { ExecOptions, ExecResult, Transport, TransportStats } from './types.js';
import { wrapCommand } from './wrap.js';

export interface SshTarget {
  /** Inventory name, used in messages. */
  name: string;
  address: string;
  port: number;
  user: string;
  privateKeyFiles: string[];
  password?: string;
  knownHostsFiles: string[];
  /** Record keys of hosts never seen before (into the first known_hosts file) instead of refusing. */
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  /** ssh_config HostKeyAlias: the name to look the key up under */
  hostKeyAlias?: string;
  /** user@host:port of a bastion to tunnel through (ssh_config ProxyJump). */
  proxyJump?: SshTarget;
  /** 'driver' (default): a persistent command runner per sudo user; 'exec': one SSH exec per command. */
  mode?: 'driver' | 'exec';
}

// curve25519 first: OpenSSH's default sntrup761 hybrid costs ~7x more client CPU per handshake.
const ALGORITHMS: ConnectConfig['algorithms'] = {
  kex: ['curve25519-sha256', 'curve25519-sha256@libssh.org', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256'],
  serverHostKey: ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256'],
};

/** The name the host's key is recorded under: ssh_config's HostKeyAlias as is, else `addr` / `[addr]:port`. */
function keyName(t: SshTarget): string {
  return t.hostKeyAlias?.toLowerCase() ?? knownHostsName(t.address, t.port);
}

function describeVerdict(t: SshTarget, v: HostKeyVerdict): HostKeyError {
  if (v.kind === 'revoked') {
    return new HostKeyError(
      t.name,
      `the host key of ${keyName(t)} is marked @revoked in ${v.file}: orch refuses to connect.`,
      {
        hint: 'A revoked key is never accepted. If the host got a new key, record that one.',
      },
    );
  }
  if (v.kind === 'changed') {
    return new HostKeyError(
      t.name,
      `REMOTE HOST KEY CHANGED for ${keyName(t)}: the key it presented does not match ${v.file}. ` +
        'Someone may be intercepting the connection. orch refuses to connect.',
      { hint: `If the host was really reinstalled, remove its old entry: ssh-keygen -R ${keyName(t)} -f ${v.file}` },
    );
  }
  return new HostKeyError(t.name, `unknown host key for ${keyName(t)} (not in ${t.knownHostsFiles.join(', ')})`, {
    hint: 'Verify the key and add it to known_hosts, or run once with --accept-new-host-keys.',
  });
}

function connectClient(t: SshTarget, sock?: ClientChannel): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let rejection: Error | undefined;
    const hostName = keyName(t);
    const cfg: ConnectConfig = {
      host: t.address,
      port: t.port,
      username: t.user,
      readyTimeout: t.connectTimeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      algorithms: ALGORITHMS,
      hostVerifier: (key: Buffer) => {
        const verdict = verifyHostKey(t.knownHostsFiles, hostName, key);
        if (verdict.kind === 'match') return true;
        if (verdict.kind === 'unknown' && t.acceptNewHostKeys && t.knownHostsFiles[0]) {
          recordHostKey(t.knownHostsFiles[0], hostName, key);
          return true;
        }
        rejection = describeVerdict(t, verdict);
        return false;
      },
    };
    if (sock) cfg.sock = sock;
    const keyFile = t.privateKeyFiles.find((f) => {
      try {
        readFileSync(f);
        return true;
      } catch {
        return false;
      }
    });
    if (keyFile) cfg.privateKey = readFileSync(keyFile);
    if (t.password !== undefined) cfg.password = t.password;
    if (process.env.SSH_AUTH_SOCK) cfg.agent = process.env.SSH_AUTH_SOCK;
    client.once('ready', () => resolve(client));
    // `on`, not `once`: a host going down mid-handshake emits a second error (a timeout, then the lost
    // connection); with no listener left, Node would end the whole run on it
    client.on('error', (err: Error & { level?: string }) => {
      if (rejection) return reject(rejection);
      const level = err.level === 'client-authentication' ? 'authentication failed' : errorMessage(err);
      const hint =
        err.level === 'client-authentication'
          ? `Check ansible_user (${t.user}) and ansible_ssh_private_key_file${keyFile ? ` (${keyFile})` : ''}.`
          : 'Check that the host is up and ansible_host/ansible_port are right.';
      reject(new ConnectError(t.name, `cannot connect to ${t.address}:${t.port}: ${level}`, { hint, cause: err }));
    });
    // closed before the login finished (a host going down) with no error: without this the promise never
    // settles, nothing keeps Node's loop alive, and the run would end silently with status 0
    client.once('close', () =>
      reject(
        rejection ??
          new ConnectError(
            t.name,
            `cannot connect to ${t.address}:${t.port}: the connection closed before the login finished`,
          ),
      ),
    );
    client.connect(cfg);
  });
}

/**
 * Open the connection, through a chain of ProxyJump bastions when configured (the first hop is the
 * innermost). With `jumps`, a bastion's connection is shared by every host behind it.
 */
async function openClient(t: SshTarget, jumps?: JumpHosts): Promise<Opened> {
  if (!t.proxyJump) {
    const client = await connectClient(t);
    return { client, release: () => client.end() };
  }
  const hop = jumps ? await jumps.acquire(t.proxyJump, (j) => openClient(j, jumps)) : await openClient(t.proxyJump);
  try {
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      hop.client.forwardOut('127.0.0.1', 0, t.address, t.port, (err, ch) => (err ? reject(err) : resolve(ch))),
    ).catch((err: unknown) => {
      const via = t.proxyJump as SshTarget;
      throw new ConnectError(
        t.name,
        `cannot reach ${t.address}:${t.port} through ${via.user}@${via.address}:${via.port}: ${errorMessage(err)}`,
        {
          hint: 'Check that the host is up and that the bastion can reach it (ProxyJump).',
          cause: err,
        },
      );
    });
    const client = await connectClient(t, channel);
    return {
      client,
      release: () => {
        client.end();
        hop.release();
      },
    };
  } catch (err) {
    hop.release();
    throw err;
  }
}

/**
 * Tries of a command whose runner was out of date. From the third on, a new runner runs it even if the
 * files changed again since it started (files that keep changing cannot hold a command back for ever).
 */
const STALE_FORCE_FROM = 3;
const STALE_TRIES = 5;

export class SshTransport implements Transport {
  readonly stats: TransportStats = { execs: 0, commands: 0, roundTrips: 0, bytesSent: 0, bytesReceived: 0 };
  /** commands in flight over every runner of this host: what counts as a round trip */
  private readonly traffic = new InFlight(() => this.stats.roundTrips++);
  /** One persistent command runner per sudo identity ('' = the login user). */
  private readonly drivers = new Map<string, { ready: Promise<DriverSession>; session?: DriverSession }>();
  private readonly refusedPasswords = new Map<string, BecomeError>();
  private closed = false;
  private lost: Error | undefined;

  /** With the persistent runner, commands given at once go out back to back (see DriverSession.pump). */
  get pipelines(): boolean {
    return this.target.mode !== 'exec';
  }

  private constructor(
    private readonly target: SshTarget,
    private readonly client: Client,
    private readonly release: () => void,
  ) {
    client.on('error', (err) => (this.lost = err));
    client.on('close', () => {
      if (!this.closed) this.lost ??= new Error('connection closed by the remote host');
    });
  }

  get host(): string {
    return this.target.name;
  }

  /** `jumps`: bastion connections shared with other hosts (the pool's); without it, this host's own. */
  static async connect(target: SshTarget, jumps?: JumpHosts): Promise<SshTransport> {
    const { client, release } = await openClient(target, jumps);
    return new SshTransport(target, client, release);
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.lost) return Promise.reject(this.connectionLost(this.lost));
    // A password sudo/su refused is not tried again on this host: each try counts against the account.
    const who = opts.become
      ? JSON.stringify([opts.become.method ?? 'sudo', opts.become.user, opts.become.password ?? null])
      : undefined;
    const refused = who === undefined ? undefined : this.refusedPasswords.get(who);
    if (refused) return Promise.reject(refused);
    const r = this.target.mode === 'exec' ? this.execChannel(command, opts) : this.execOnDriver(command, opts);
    return r.catch((err: unknown) => {
      if (who !== undefined && err instanceof BecomeError && err.wrongPassword) this.refusedPasswords.set(who, err);
      throw err;
    });
  }

  async prepare(opts: ExecOptions): Promise<void> {
    if (this.target.mode !== 'exec') await this.driver(opts).catch(() => undefined);
  }

  /** One runner per become identity: sudo/su's handshake happens once, when it starts. */
  private driverKey(opts: ExecOptions): string {
    return opts.become ? `${opts.become.method ?? 'sudo'}:${opts.become.user}` : '';
  }

  private driver(opts: ExecOptions): Promise<DriverSession> {
    const key = this.driverKey(opts);
    const existing = this.drivers.get(key);
    if (existing && (existing.session === undefined || existing.session.alive)) return existing.ready;
    const entry: { ready: Promise<DriverSession>; session?: DriverSession } = {
      ready: this.startDriver(opts),
    };
    entry.ready
      .then((session) => (entry.session = session))
      .catch(() => {
        // not started (sudo refused, perl missing...): the next command tries again
        if (this.drivers.get(key) === entry) this.drivers.delete(key);
      });
    this.drivers.set(key, entry);
    return entry.ready;
  }

  /** A runner on a new exec channel, as the become user: resolves once it is ready. */
  private startDriver(opts: ExecOptions): Promise<DriverSession> {
    return new Promise((resolve, reject) => {
      const { command, ids } = wrapCommand(DRIVER_COMMAND, { become: opts.become });
      this.stats.execs++;
      this.client.exec(command, (err, channel) => {
        if (err) return reject(this.connectionLost(err));
        const become = opts.become && ids ? { settings: opts.become, ids } : undefined;
        const session = new DriverSession(channel, this.target.name, become, this.traffic);
        session.started().then(() => resolve(session), reject);
      });
    });
  }

  /** A runner that did not start: sudo's refusal or a lost connection are thrown; anything else fails the command. */
  private notStarted(err: unknown): ExecResult {
    if (err instanceof OrchError) throw err; // BecomeError, ConnectError
    return { rc: 1, stdout: '', stderr: `command runner did not start: ${errorMessage(err)}` };
  }

  /**
   * On the runner of the command's user. A runner whose session went out of date (driver.ts, "Stale
   * sessions") ran nothing: the command goes to a new runner, a new session as Ansible's next task gets.
   */
  private async execOnDriver(command: string, opts: ExecOptions): Promise<ExecResult> {
    this.stats.commands++;
    for (let attempt = 1; ; attempt++) {
      let session: DriverSession;
      try {
        session = await this.driver(opts);
      } catch (err) {
        return this.notStarted(err);
      }
      try {
        return await this.runOn(session, command, opts, attempt >= STALE_FORCE_FROM);
      } catch (err) {
        if (!(err instanceof StaleSession)) throw err;
        if (attempt >= STALE_TRIES) throw this.connectionLost(err);
      }
    }
  }

  /**
   * Exec mode with a time limit: a runner for this one command (still one exec) keeps the limit, so a
   * child that left the process group but holds the output is killed too and the answer comes at once.
   */
  private async execOneShot(command: string, opts: ExecOptions): Promise<ExecResult> {
    this.stats.commands++;
    let session: DriverSession;
    try {
      session = await this.startDriver(opts);
    } catch (err) {
      return this.notStarted(err);
    }
    try {
      // a runner started for this one command is as fresh as an exec: it runs even if a file changed meanwhile
      return await this.runOn(session, command, opts, true);
    } finally {
      session.close();
    }
  }

  private async runOn(session: DriverSession, command: string, opts: ExecOptions, force = false): Promise<ExecResult> {
    // The runner already starts each command with /bin/sh -c: no second shell unless a wrapper needs one.
    // It keeps the timeout itself (it kills the process group and whatever holds the output: driver.ts).
    const plain = !opts.cwd && Object.keys(opts.env ?? {}).length === 0;
    const wrapped = plain
      ? command
      : wrapCommand(command, { ...opts, become: undefined, timeoutMs: undefined }).command;
    const stdin = opts.stdin === undefined ? Buffer.alloc(0) : Buffer.from(opts.stdin);
    this.stats.bytesSent += wrapped.length + stdin.length;
    let timer: NodeJS.Timeout | undefined;
    const backstop = new Promise<never>((_, reject) => {
      if (opts.timeoutMs !== undefined) {
        // The runner answers by the limit + 6 s (driver.ts); this catches a host that went silent.
        timer = setTimeout(() => {
          session.close();
          reject(new ConnectError(this.target.name, `no answer within ${Math.round(opts.timeoutMs! / 1000) + 15}s`));
        }, opts.timeoutMs + 15_000);
      }
    });
    try {
      const r = await Promise.race([session.run(wrapped, stdin, opts.timeoutMs, force), backstop]);
      this.stats.bytesReceived += r.stdout.length + r.stderr.length;
      return r;
    } catch (err) {
      throw err instanceof ConnectError || err instanceof StaleSession ? err : this.connectionLost(err as Error);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** One exec request per command (the mode without a persistent runner); with a time limit see execOneShot. */
  private execChannel(command: string, opts: ExecOptions): Promise<ExecResult> {
    if (opts.timeoutMs !== undefined) return this.execOneShot(command, opts);
    const { command: wrapped, ids } = wrapCommand(command, opts);
    this.stats.execs++;
    this.stats.commands++;
    this.stats.roundTrips++;
    return new Promise((resolve, reject) => {
      this.client.exec(wrapped, (err, stream) => {
        if (err) return reject(this.connectionLost(err));
        const out = new BoundedOutput();
        const errOut = new BoundedOutput();
        let rc: number | undefined;
        stream.on('data', (d: Buffer) => {
          this.stats.bytesReceived += d.length;
          out.push(d);
        });
        const input = opts.stdin === undefined ? Buffer.alloc(0) : Buffer.from(opts.stdin);
        const sendInput = () => {
          this.stats.bytesSent += input.length;
          stream.end(input);
        };
        const handshake =
          opts.become && ids
            ? new BecomeHandshake(this.target.name, opts.become, ids, {
                send: (s) => stream.write(s),
                abort: () => stream.close(),
                started: sendInput,
              })
            : undefined;
        stream.stderr.on('data', (d: Buffer) => {
          this.stats.bytesReceived += d.length;
          errOut.push(handshake ? handshake.feed(d) : d);
        });
        stream.on('exit', (code: number | null, signal?: string) => {
          rc = code ?? (signal ? 128 + 9 : 255);
        });
        stream.on('close', () => {
          if (rc === undefined && this.lost) return reject(this.connectionLost(this.lost));
          if (handshake && !handshake.done) return reject(handshake.failure());
          resolve({
            rc: rc ?? 255,
            stdout: out.text(),
            stderr: errOut.text(),
            truncated: out.truncated || errOut.truncated || undefined,
          });
        });
        if (!handshake) sendInput();
      });
    });
  }

  private connectionLost(cause: Error): ConnectError {
    return new ConnectError(this.target.name, `connection lost: ${errorMessage(cause)}`, { cause });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.drivers.values()) d.session?.close();
    this.release();
  }
}
