/**
 * The SSH transport of one host: commands go to a persistent command runner per become user (driver.ts), or
 * with ORCH_SSH_MODE=exec one SSH exec each; the connection itself is opened by ssh-connect.ts.
 */
import type { Client } from 'ssh2';
import { BecomeError, ConnectError, OrchError, errorMessage } from '../core/errors.js';
import { BecomeHandshake } from './become.js';
import type { JumpHosts } from './jump.js';
import { DriverSession, InFlight, StaleSession } from './driver.js';
import { DRIVER_COMMAND } from './runner-source.js';
import { BoundedOutput } from './output.js';
import type { ExecOptions, ExecResult, Transport, TransportStats } from './types.js';
import { wrapCommand } from './wrap.js';
import { openClient, type SshTarget } from './ssh-connect.js';

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
    // the connection's own error (a keepalive timeout, a reset) says more than the channel it closed
    const why = this.lost ?? cause;
    return new ConnectError(this.target.name, `connection lost: ${errorMessage(why)}`, { cause: why });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const d of this.drivers.values()) d.session?.close();
    this.release();
  }
}
