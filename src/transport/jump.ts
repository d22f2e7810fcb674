import type { Client } from 'ssh2';

/** An open SSH connection and how to give it back (closing it, or leaving it to the others who share it). */
export interface Opened {
  client: Client;
  release: () => void;
}

/** What identifies a bastion connection: where, as whom, with which keys, through which hops. */
export interface JumpTarget {
  address: string;
  port: number;
  user: string;
  privateKeyFiles: string[];
  proxyJump?: JumpTarget;
}

function jumpKey(t: JumpTarget): string {
  return JSON.stringify([t.user, t.address, t.port, t.privateKeyFiles, t.proxyJump ? jumpKey(t.proxyJump) : null]);
}

/**
 * Bastion connections shared by every host behind them: one SSH connection to a bastion for the run,
 * a forwarded channel (direct-tcpip) per host on it, so a host behind it is still one connection. The
 * bastion's connection closes when the last host using it closes; a lost one is opened again on next use.
 */
export class JumpHosts {
  private readonly open = new Map<string, { opened: Promise<Opened>; users: number }>();

  async acquire<T extends JumpTarget>(t: T, connect: (t: T) => Promise<Opened>): Promise<Opened> {
    const key = jumpKey(t);
    let entry = this.open.get(key);
    if (!entry) {
      const e = { opened: connect(t), users: 0 };
      const forget = () => {
        if (this.open.get(key) === e) this.open.delete(key);
      };
      e.opened.then(({ client }) => client.once('close', forget), forget);
      this.open.set(key, e);
      entry = e;
    }
    const e = entry;
    e.users++;
    let opened: Opened;
    try {
      opened = await e.opened;
    } catch (err) {
      e.users--;
      throw err;
    }
    let released = false;
    return {
      client: opened.client,
      release: () => {
        if (released) return;
        released = true;
        if (--e.users > 0) return;
        if (this.open.get(key) === e) this.open.delete(key);
        opened.release();
      },
    };
  }

  /** Bastion connections open now (for tests). */
  get size(): number {
    return this.open.size;
  }
}
