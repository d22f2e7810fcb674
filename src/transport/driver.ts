import type { ClientChannel } from 'ssh2';
import { BecomeHandshake, type BecomeIds } from './become.js';
import { cachedBody } from './code-cache.js';
import { BoundedOutput } from './output.js';
import { probeCode, STARTS_PROCESSES } from './probe-command.js';
import { writeCode } from './write-command.js';
import type { BecomeSettings, ExecResult } from './types.js';

/**
 * The controller's end of the persistent command runner (runner.pl, whose header explains the protocol):
 * one exec channel per host and become user runs a small Perl loop that reads framed requests (a command,
 * a probe) and answers with framed results, for the whole run.
 */

const READY = 'ORCH-DRIVER-READY\n';
const STARTUP_TIMEOUT_MS = 30_000;

/** The runner found its session out of date (runner.pl: "Stale sessions") and ran nothing: send again to a new one. */
export class StaleSession extends Error {
  constructor() {
    super("the command runner's session is out of date (users, groups, limits or environment files changed)");
  }
}

interface Request {
  cmd: Buffer;
  stdin: Buffer;
  timeoutMs: number;
  force: boolean;
}

/**
 * A command that is exactly one probe (with no stdin) goes as a probe frame, one that is exactly one write as a
 * write frame (with its stdin): their code alone, run in the runner. Given the ids of the code this runner was
 * sent (`known`), as a cached frame: the code once, then its id and values (code-cache.ts).
 */
export function requestFrame(r: Request, known?: Set<number>): Buffer {
  const { kind, code, spawns } = frameCode(r.cmd.toString(), r.stdin);
  const cached = code !== undefined && known ? cachedBody(code, known) : undefined;
  const body = cached !== undefined ? Buffer.from(cached) : code === undefined ? r.cmd : Buffer.from(code);
  // flags: F run even if stale (a retry's last resort), N a probe that starts programs
  const flags = `${r.force ? 'F' : ''}${spawns && kind === 'P' ? 'N' : ''}`;
  const header = `${cached !== undefined ? kind.toLowerCase() : kind} ${body.length} ${r.stdin.length} ${r.timeoutMs}${flags ? ` ${flags}` : ''}\n`;
  return Buffer.concat([Buffer.from(header), body, r.stdin]);
}

/**
 * A request's frame kind: a probe or a write (their Perl code runs in the runner), else a command (R); and
 * whether it starts programs (a command, or a probe that says so), which need a current session.
 */
function frameCode(cmd: string, stdin: Buffer): { kind: 'P' | 'W' | 'R'; code?: string; spawns: boolean } {
  const probe = stdin.length === 0 ? probeCode(cmd) : undefined;
  if (probe !== undefined) return { kind: 'P', code: probe, spawns: probe.includes(STARTS_PROCESSES) };
  const write = writeCode(cmd);
  return write !== undefined ? { kind: 'W', code: write, spawns: false } : { kind: 'R', spawns: true };
}

interface Pending {
  resolve(r: ExecResult): void;
  reject(e: Error): void;
}

/**
 * The round trips of one host, over all its runners (one per sudo user, all on one SSH connection):
 * commands sent together (a batch of queries for root and for postgres, a write and the queries fetched
 * behind it) share one; a command sent after any answer came back may depend on it: a new one.
 */
export class InFlight {
  private answeredSinceSend = true;

  constructor(private readonly onRoundTrip: () => void = () => undefined) {}

  sent(): void {
    if (this.answeredSinceSend) this.onRoundTrip();
    this.answeredSinceSend = false;
  }

  answered(): void {
    this.answeredSinceSend = true;
  }
}

const NOTHING = Buffer.alloc(0);

/** The controller's end of one driver: commands are queued, one runs at a time. */
export class DriverSession {
  private buf: Buffer = NOTHING;
  private ready = false;
  private dead: Error | undefined;
  private readonly queue: (Request & { p: Pending })[] = [];
  /** a send of the queue is planned for the end of this turn of the event loop */
  private flushing = false;
  /** sent, not yet answered, in order: the runner answers in the order it reads */
  private readonly inflight: Pending[] = [];
  /** the ids of the code sent to this runner (code-cache.ts): a new runner has none */
  private readonly codes = new Set<number>();
  private header: { rc: number; out: number; err: number; stale: boolean } | undefined;
  /** the runner said " P": limits or environment files changed, so a command (a new process) needs a new runner */
  private processesStale = false;
  private out = new BoundedOutput();
  private err = new BoundedOutput();
  private startup: { resolve(): void; reject(e: Error): void } | undefined;
  private startupErr = '';
  /** what the runner wrote on stderr once ready (nothing, unless it dies: Perl's last words) */
  private readonly lastWords = new BoundedOutput(2048);
  /** the runner's exit status or signal, when the host reports it */
  private exitStatus: string | undefined;
  /** sudo/su before the runner starts (become.ts): the password goes only to their prompt */
  private readonly handshake: BecomeHandshake | undefined;
  commands = 0;

  constructor(
    private readonly channel: ClientChannel,
    host: string,
    become: { settings: BecomeSettings; ids: BecomeIds } | undefined,
    /** told when a command goes out and when its answer is in (the host's round trips: see InFlight) */
    private readonly traffic: InFlight = new InFlight(),
  ) {
    this.handshake = become
      ? new BecomeHandshake(host, become.settings, become.ids, {
          send: (s) => channel.write(s),
          abort: () => channel.close(),
          started: () => undefined,
        })
      : undefined;
    channel.on('data', (d: Buffer) => this.onData(d));
    channel.stderr.on('data', (d: Buffer) => {
      // sudo/su's part of stderr ends at the marker, which may come in after the runner's ready on stdout
      const own = this.handshake ? this.handshake.feed(d) : d;
      if (this.ready) this.lastWords.push(own);
      else this.startupErr += own.toString();
    });
    // ssh2 names the signal of sshd's exit-signal request with its prefix: SIGKILL
    channel.on('exit', (code: number | null, signal?: string) => {
      this.exitStatus = signal ? `killed by ${signal}` : `exit status ${code ?? '?'}`;
    });
    // Whatever else stops the runner from starting must not hang the run.
    const startTimer = setTimeout(() => {
      if (!this.ready) {
        this.startupErr ||= `the command runner did not start within ${STARTUP_TIMEOUT_MS / 1000} s`;
        channel.close();
      }
    }, STARTUP_TIMEOUT_MS);
    startTimer.unref();
    channel.on('close', () => {
      clearTimeout(startTimer);
      if (!this.ready && this.handshake && !this.handshake.done) return this.fail(this.handshake.failure());
      this.fail(
        new Error(this.ready ? this.stoppedMessage() : this.startupErr.trim() || 'command runner did not start'),
      );
    });
  }

  /** Why a runner that was ready went away, as far as the host said: its exit status and last stderr. */
  private stoppedMessage(): string {
    const said = this.lastWords.text().trim();
    return `command runner on the host stopped${this.exitStatus ? ` (${this.exitStatus})` : ''}${said ? `: ${said}` : ''}`;
  }

  /** Resolves once the driver said it is ready; rejects with why it did not start (BecomeError: sudo/su refused). */
  started(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => (this.startup = { resolve, reject }));
  }

  get alive(): boolean {
    return !this.dead;
  }

  /**
   * Run a command; `timeoutMs` is kept by the runner (runner.pl: "Timeouts"). Rejects with StaleSession
   * when the runner's session is out of date (nothing ran), unless `force`.
   */
  run(command: string, stdin: Buffer, timeoutMs = 0, force = false): Promise<ExecResult> {
    if (this.dead) return Promise.reject(this.dead);
    // the runner would answer "S": with nothing in flight here, go to a new runner now (no round trip)
    if (this.processesStale && this.inflight.length === 0 && this.queue.length === 0) {
      if (frameCode(command, stdin).spawns) {
        this.retire();
        return Promise.reject(this.dead);
      }
    }
    return new Promise((resolve, reject) => {
      this.queue.push({
        cmd: Buffer.from(command),
        stdin,
        timeoutMs: Math.max(0, Math.round(timeoutMs)),
        force,
        p: { resolve, reject },
      });
      this.pump();
    });
  }

  close(): void {
    // what was asked for before still goes out (a write after the end would be a stream error)
    this.flush();
    this.channel.end();
  }

  /**
   * Send everything queued at once (pipelining): the runner reads and answers one after the other. What is
   * asked for in one turn of the event loop (a batch of queries) goes out as one write: one SSH packet to
   * encrypt and send, not one per command.
   */
  private pump(): void {
    if (!this.ready || this.dead || this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    process.nextTick(() => this.flush());
  }

  private flush(): void {
    this.flushing = false;
    if (!this.ready || this.dead || this.queue.length === 0) return;
    const frames: Buffer[] = [];
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      this.traffic.sent();
      this.inflight.push(next.p);
      this.commands++;
      frames.push(requestFrame(next, this.codes));
    }
    // one frame as it is: a big stdin (a copied file) is not copied once more
    this.channel.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames));
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    this.startup?.reject(e);
    this.startup = undefined;
    for (const p of this.inflight) {
      this.traffic.answered();
      p.reject(e);
    }
    this.inflight.length = 0;
    for (const q of this.queue) q.p.reject(e);
    this.queue.length = 0;
  }

  /** The session is out of date: what was sent after goes to a new runner (the runner answers it with "S"). */
  private retire(): void {
    this.fail(new StaleSession());
    this.channel.end();
  }

  private onData(d: Buffer): void {
    if (this.dead) return; // a retired runner's "S" answers to what was already sent
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (!this.ready) {
      const i = this.buf.indexOf(READY);
      if (i < 0) return;
      this.buf = this.buf.subarray(i + READY.length);
      this.ready = true;
      // the runner runs, so sudo/su let it: their time limit must not close it while the marker is on its way
      this.handshake?.commandRuns();
      this.startup?.resolve();
      this.startup = undefined;
      this.pump();
    }
    this.parse();
    // an empty view still holds the whole packet it was cut from, for as long as the runner is idle
    if (this.buf.length === 0) this.buf = NOTHING;
  }

  /** Move up to `wanted` buffered bytes into `into`; returns how many are still to come. */
  private take(wanted: number, into: BoundedOutput): number {
    if (wanted <= 0) return 0;
    const chunk = this.buf.subarray(0, wanted);
    into.push(chunk);
    this.buf = this.buf.subarray(chunk.length);
    return wanted - chunk.length;
  }

  /** Streams a response's bytes into bounded buffers: a huge output never sits whole in memory. */
  private parse(): void {
    for (;;) {
      if (!this.header) {
        const nl = this.buf.indexOf(10);
        if (nl < 0) return;
        // this request and every later one were not run: they go to a new runner (SshTransport)
        if (this.buf.subarray(0, nl).toString() === 'S') return this.retire();
        const m = /^X (\d+) (\d+) (\d+)( S| P)?$/.exec(this.buf.subarray(0, nl).toString());
        if (!m) return this.fail(new Error('command runner sent a garbled reply'));
        this.header = { rc: Number(m[1]), out: Number(m[2]), err: Number(m[3]), stale: m[4] === ' S' };
        if (m[4] === ' P') this.processesStale = true;
        this.buf = this.buf.subarray(nl + 1);
      }
      const h = this.header;
      h.out = this.take(h.out, this.out);
      if (h.out > 0) return;
      h.err = this.take(h.err, this.err);
      if (h.err > 0) return;
      const done = this.inflight.shift();
      if (done) this.traffic.answered();
      const result: ExecResult = {
        rc: h.rc,
        stdout: this.out.text(),
        stderr: this.err.text(),
        truncated: this.out.truncated || this.err.truncated || undefined,
      };
      this.header = undefined;
      this.out = new BoundedOutput();
      this.err = new BoundedOutput();
      done?.resolve(result);
      if (h.stale) return this.retire();
    }
  }
}
