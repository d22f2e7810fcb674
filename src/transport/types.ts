/** What modules see of a connection to one host. Modules never know whether it is SSH or local. */

export interface ExecOptions {
  /** Bytes written to the command's standard input (then closed). */
  stdin?: string | Buffer;
  /** Run as another user via sudo or su (the executor sets this from `become`); a refusal throws BecomeError. */
  become?: BecomeSettings;
  /** Kill the command after this long (ms); the result is then rc 124. */
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface BecomeSettings {
  user: string;
  /** never logged; sent on stdin only when sudo/su prompts for it (transport/become.ts) */
  password?: string;
  /** become_method; sudo when unset */
  method?: 'sudo' | 'su';
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
  /** True when output went past the capture limit and its middle was dropped. */
  truncated?: boolean;
  /** set by the executor when rc 124 came from the time limit it gave (task `timeout:` or --timeout) */
  timedOutAfterMs?: number;
}

export interface TransportStats {
  /** SSH exec requests (new sessions on the connection). */
  execs: number;
  /** Commands run (on their own exec, or on a persistent runner). */
  commands: number;
  /** Network round trips: commands sent together share one; a command sent after an answer came back starts one. */
  roundTrips: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface Transport {
  readonly host: string;
  /** Commands given at once are sent back to back and answered in order (one round trip for all). */
  readonly pipelines?: boolean;
  readonly stats: TransportStats;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** With a runner per sudo user: start the one for this user now (a batch then goes out for all users at once). */
  prepare?(opts: ExecOptions): Promise<void>;
  close(): Promise<void>;
}

/** Output kept per stream; past it the middle is dropped so memory stays bounded on huge output. */
export const OUTPUT_LIMIT = 4 * 1024 * 1024;
