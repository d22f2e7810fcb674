import { randomBytes } from 'node:crypto';
import { BecomeError } from '../core/errors.js';
import { shellJoin } from './quote.js';
import type { BecomeSettings } from './types.js';

/**
 * Becoming another user as a handshake (as Ansible does), the same for every transport:
 *
 *   sudo -H -S -p <prompt> -u USER -- /bin/sh -c 'echo <marker> >&2; exec "$@"' orch-become ARGV...
 *   su -s /bin/sh -c 'echo <marker> >&2; exec ARGV...' USER
 *
 * <prompt> and <marker> are random per command. Everything sudo/su writes before the marker is theirs:
 * the password is sent only when the prompt shows up on stderr (never otherwise, so NOPASSWD, a cached
 * sudo timestamp or a root login cannot turn it into the command's input), the command's own stdin is
 * sent only after the marker, and stderr reaches the caller from after the marker only. A channel that
 * ends before the marker is a refusal: a BecomeError naming the host and why.
 */

export interface BecomeIds {
  /** sudo's prompt (`-p`): unique, so it cannot be mistaken for anything else */
  prompt: string;
  /** printed on stderr by the become user's shell once sudo/su let it run */
  marker: string;
}

export const BECOME_METHODS = ['sudo', 'su'] as const;
export type BecomeMethod = (typeof BECOME_METHODS)[number];

export function becomeIds(): BecomeIds {
  const id = randomBytes(12).toString('hex');
  return { prompt: `[orch-become-${id}] password: `, marker: `ORCH-BECOME-OK-${id}` };
}

/** `argv`, run as the become user through sudo or su, with the marker printed first. */
export function becomeArgv(argv: string[], b: BecomeSettings, ids: BecomeIds): string[] {
  const announce = `echo ${ids.marker} >&2; exec`;
  if (b.method === 'su') return ['su', '-s', '/bin/sh', '-c', `${announce} ${shellJoin(argv)}`, b.user];
  // -H: the target's HOME; -n: no password configured, so never wait for a prompt nobody answers.
  const auth = b.password !== undefined ? ['-S', '-p', ids.prompt] : ['-n'];
  return ['sudo', '-H', ...auth, '-u', b.user, '--', '/bin/sh', '-c', `${announce} "$@"`, 'orch-become', ...argv];
}

/** How long sudo/su may take to let the command run (a PAM module waiting for input must not hang a run). */
export const BECOME_TIMEOUT_MS = 30_000;

/** The controller's side of one handshake: feed it the channel's stderr. */
export class BecomeHandshake {
  private pre = Buffer.alloc(0);
  /** prompts answered (a second one means the password was refused) */
  private answered = 0;
  /** where the next prompt is looked for in `pre` */
  private scanFrom = 0;
  private timer: NodeJS.Timeout | undefined;
  /** the prompt su showed (its text is su's own, not a fixed token) */
  private suPrompt: string | undefined;
  done = false;
  refusal: BecomeError | undefined;

  constructor(
    private readonly host: string,
    private readonly b: BecomeSettings,
    private readonly ids: BecomeIds,
    private readonly io: {
      /** write to the channel's stdin (the password) */
      send(s: string): void;
      /** sudo/su refused or hung: stop the channel; the caller then reports `refusal` */
      abort(): void;
      /** the command runs: its stdin may go now */
      started(): void;
    },
    timeoutMs = BECOME_TIMEOUT_MS,
  ) {
    this.timer = setTimeout(
      () =>
        this.refuse(
          `${this.tool} did not let the command run within ${timeoutMs / 1000} s (waiting for input orch cannot give?)`,
        ),
      timeoutMs,
    );
    this.timer.unref();
  }

  /** the command answered: sudo/su ask nothing more, so nothing is answered (the channel's stdin is its now) */
  private runs = false;

  /**
   * The command is known to run (it answered on stdout): stop the time limit. The marker may still be on
   * its way on stderr (the two streams are not ordered); `feed` keeps taking it off.
   */
  commandRuns(): void {
    this.runs = true;
    clearTimeout(this.timer);
  }

  private get tool(): string {
    return this.b.method ?? 'sudo';
  }

  /** stderr bytes in; returns the bytes that are the command's own stderr. */
  feed(chunk: Buffer): Buffer {
    if (this.done) return chunk;
    if (this.refusal) return Buffer.alloc(0);
    this.pre = Buffer.concat([this.pre, chunk]);
    const at = this.pre.indexOf(`${this.ids.marker}\n`);
    if (at >= 0) {
      const rest = this.pre.subarray(at + this.ids.marker.length + 1);
      this.done = true;
      this.pre = Buffer.alloc(0);
      clearTimeout(this.timer);
      this.io.started();
      return rest;
    }
    while (!this.runs && this.nextPrompt()) {
      if (this.b.password === undefined) return this.refuseNow(`${this.tool} asks for a password and none is set`);
      if (this.answered > 0) return this.refuseNow(`${this.tool} refused the password (incorrect password)`);
      this.answered++;
      this.io.send(`${this.b.password}\n`);
    }
    return Buffer.alloc(0);
  }

  /** Finds a prompt not answered yet in what sudo/su wrote. */
  private nextPrompt(): boolean {
    if (this.tool === 'sudo') {
      const i = this.pre.indexOf(this.ids.prompt, this.scanFrom);
      if (i < 0) return false;
      this.scanFrom = i + this.ids.prompt.length;
      return true;
    }
    // su has its own prompt ("Password: ", translated): a pending line ending in a colon is one. su asks
    // once (a wrong password ends it with "Authentication failure"), so only the first counts.
    if (this.answered > 0) return false;
    const text = this.pre.toString('utf8');
    const last = text.slice(text.lastIndexOf('\n') + 1);
    if (!/\S.*:\s?$/.test(last)) return false;
    this.suPrompt = last;
    return true;
  }

  private refuseNow(why: string): Buffer {
    this.refuse(why);
    return Buffer.alloc(0);
  }

  private refuse(why: string): void {
    if (this.done || this.refusal) return;
    clearTimeout(this.timer);
    this.refusal = this.error(why);
    this.io.abort();
  }

  /** The channel ended before the marker: sudo/su refused. */
  failure(): BecomeError {
    clearTimeout(this.timer);
    return this.refusal ?? this.error(this.said() || `${this.tool} ended without running the command`);
  }

  /** What sudo/su said, without the prompts. */
  private said(): string {
    const text = this.pre.toString('utf8').split(this.ids.prompt).join('');
    return (this.suPrompt ? text.replace(this.suPrompt, '') : text).trim();
  }

  private error(why: string): BecomeError {
    const said = this.said();
    const detail = said && !why.includes(said) ? ` (${this.tool} said: ${said.split('\n').slice(-2).join(' ')})` : '';
    const text = `${why}\n${said}`;
    return new BecomeError(this.host, `${this.tool} to ${this.b.user} failed: ${why}${detail}`, {
      hint: adviceFor(text, this.tool),
      wrongPassword: this.answered > 0 && WRONG_PASSWORD.test(text),
    });
  }
}

const WRONG_PASSWORD = /incorrect password|Sorry, try again|Authentication failure/i;

/** sudo's and su's refusals, turned into advice. */
export function adviceFor(text: string, tool: string): string {
  if (WRONG_PASSWORD.test(text)) {
    return tool === 'su'
      ? "Check the target user's password (ansible_become_password)."
      : "Check ansible_become_password (the login user's password for sudo).";
  }
  if (/none is set|a password is required|no password was provided/i.test(text)) {
    return 'Set ansible_become_password (vaulted), or allow NOPASSWD for this user in sudoers.';
  }
  if (/must have a tty/i.test(text)) {
    return 'sudo requires a TTY on this host (Defaults requiretty). Remove requiretty for this user in sudoers; orch never allocates a TTY.';
  }
  if (/is not in the sudoers file|not allowed to execute|may not run sudo/i.test(text)) {
    return 'This user may not use sudo on this host. Grant it in sudoers, or set become: false.';
  }
  if (/not found/i.test(text)) return `${tool} is not installed on this host.`;
  return `Check that ${tool} works for this user on the host.`;
}
