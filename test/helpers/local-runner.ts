import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { ClientChannel } from 'ssh2';
import { DriverSession } from '../../src/transport/driver.js';
import { runnerSource } from '../../src/transport/runner-source.js';

// The runner (src/transport/runner.pl) and its controller end (DriverSession) speaking the protocol over a
// local perl process's pipes instead of an SSH channel: no lab needed.

const children: ChildProcess[] = [];
after(() => children.forEach((c) => c.kill('SIGKILL')));

export function localRunner(
  home = mkdtempSync(join(tmpdir(), 'orch-runner-home-')),
  /** a program and arguments that start perl (setpriv, prlimit...) */
  prefix: string[] = [],
  /** the files the runner watches (SESSION_FILES, PROCESS_FILES when not given), and how (inotify unless false) */
  files?: { session?: string[]; process?: string[]; inotify?: boolean },
): {
  session: DriverSession;
  pid: number;
} {
  const [cmd = 'perl', ...args] = [...prefix, 'perl', '-e', runnerSource(files)];
  const child = spawn(cmd, args, { env: { ...process.env, HOME: home }, stdio: 'pipe' });
  children.push(child);
  const channel = Object.assign(new EventEmitter(), {
    stderr: child.stderr,
    write: (d: Buffer | string) => child.stdin.write(d),
    end: () => child.stdin.end(),
    close: () => child.kill(),
  });
  child.stdout.on('data', (d: Buffer) => channel.emit('data', d));
  // a runner killed before a request reaches it (a test that kills it): the request fails by the close below
  child.stdin.on('error', () => undefined);
  // as ssh2 reports sshd's exit-status / exit-signal request: the signal's name with "SIG" (ssh2 adds it)
  child.on('exit', (code, signal) => channel.emit('exit', code, signal ?? undefined));
  child.on('close', () => channel.emit('close'));
  return { session: new DriverSession(channel as unknown as ClientChannel, 'local', undefined), pid: child.pid ?? 0 };
}
