import { spawn } from 'node:child_process';
import { BecomeHandshake } from './become.js';
import { BoundedOutput } from './output.js';
import type { ExecOptions, ExecResult, Transport, TransportStats } from './types.js';
import { wrapCommand } from './wrap.js';

/** `ansible_connection: local`: commands run on the control machine itself. */
export class LocalTransport implements Transport {
  readonly stats: TransportStats = { execs: 0, commands: 0, roundTrips: 0, bytesSent: 0, bytesReceived: 0 };
  constructor(readonly host: string) {}

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const { command: wrapped, ids } = wrapCommand(command, opts);
    this.stats.execs++;
    this.stats.commands++;
    this.stats.roundTrips++;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', wrapped], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out = new BoundedOutput();
      const errOut = new BoundedOutput();
      const input = opts.stdin === undefined ? '' : opts.stdin;
      const handshake =
        opts.become && ids
          ? new BecomeHandshake(this.host, opts.become, ids, {
              send: (s) => child.stdin.write(s),
              abort: () => {
                child.stdin.end();
                child.kill('SIGKILL');
              },
              started: () => child.stdin.end(input),
            })
          : undefined;
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => errOut.push(handshake ? handshake.feed(d) : d));
      child.on('error', reject);
      if (opts.timeoutMs !== undefined) {
        // `timeout` killed the process group; a child that left it may still hold the output: stop waiting for it
        child.on('exit', () => {
          setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
          }, 1000).unref();
        });
      }
      child.on('close', (code, signal) => {
        if (handshake && !handshake.done) return reject(handshake.failure());
        resolve({
          rc: code ?? (signal ? 137 : 255),
          stdout: out.text(),
          stderr: errOut.text(),
          truncated: out.truncated || errOut.truncated || undefined,
        });
      });
      child.stdin.on('error', () => undefined); // a command that does not read its stdin
      if (!handshake) child.stdin.end(input);
    });
  }

  async close(): Promise<void> {}
}
