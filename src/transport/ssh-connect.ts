/**
 * Opening an SSH connection with ssh2: the target as ssh_config and the inventory describe it, the client's
 * algorithms, the host key checked against known_hosts (refusals explained), and chains of ProxyJump bastions.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import ssh2, { Client, type AnyAuthMethod, type ClientChannel, type ConnectConfig, type ParsedKey } from 'ssh2';
import { ConnectError, HostKeyError, errorMessage } from '../core/errors.js';
import { JumpHosts, type Opened } from './jump.js';
import { knownHostsName, recordHostKey, verifyHostKey, type HostKeyVerdict } from './known-hosts.js';

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

/** A key file's content and its parse, while the file stays the same: parsed once, not per host. */
const parsedKeys = new Map<string, { text: Buffer; key: ParsedKey | Error }>();

/** The digest each key type signs with when ssh2 names none (rsa-sha2-* logins name theirs). */
const SIGN_DIGEST: Record<string, string | null> = {
  'ssh-ed25519': null,
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
  'ssh-rsa': 'sha1',
};

/**
 * ssh2 signs a login with the key's PEM text, which OpenSSL parses again each time (~0.5 ms, ten times the
 * signature itself, for every host): the same key, its private part parsed once. A key of another type, or
 * one OpenSSL cannot read, stays as ssh2 parsed it.
 */
export function signingOnce(key: ParsedKey | Error): ParsedKey | Error {
  if (key instanceof Error || !key.isPrivateKey() || !(key.type in SIGN_DIGEST)) return key;
  let parsed: KeyObject;
  try {
    parsed = createPrivateKey(key.getPrivatePEM());
  } catch {
    return key;
  }
  const digest = SIGN_DIGEST[key.type] ?? null;
  const signing = Object.create(key) as ParsedKey;
  signing.sign = (data, algo) => {
    try {
      return sign(algo || digest, typeof data === 'string' ? Buffer.from(data) : data, parsed);
    } catch {
      return key.sign(data, algo); // ssh2's own way, and its error
    }
  };
  return signing;
}

function privateKeyOf(file: string): { file: string; key: ParsedKey | Buffer; unusable?: string } | undefined {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch {
    return undefined;
  }
  let known = parsedKeys.get(file);
  if (!known?.text.equals(text)) parsedKeys.set(file, (known = { text, key: signingOnce(ssh2.utils.parseKey(text)) }));
  // a key ssh2 cannot parse (one with a passphrase) goes as it is: ssh2 skips it; the hint says why
  if (known.key instanceof Error) return { file, key: text, unusable: known.key.message };
  return { file, key: known.key, unusable: known.key.isPrivateKey() ? undefined : 'it holds no private key' };
}

/**
 * How to log in, in OpenSSH's order: the first private key file there is, the agent, the password; then
 * `none` for a server that asks for nothing. (ssh2's own order starts with `none`, a round trip nearly
 * every server refuses, and tries a password before the key.)
 */
function authMethods(t: SshTarget): { keyFile: string | undefined; keyUnusable?: string; methods: AnyAuthMethod[] } {
  const username = t.user;
  const found = t.privateKeyFiles.map(privateKeyOf).find((k) => k !== undefined);
  const methods: AnyAuthMethod[] = [];
  if (found) methods.push({ type: 'publickey', username, key: found.key });
  if (process.env.SSH_AUTH_SOCK) methods.push({ type: 'agent', username, agent: process.env.SSH_AUTH_SOCK });
  if (t.password !== undefined) methods.push({ type: 'password', username, password: t.password });
  methods.push({ type: 'none', username });
  return { keyFile: found?.file, keyUnusable: found?.unusable, methods };
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
    const { keyFile, keyUnusable, methods } = authMethods(t);
    cfg.authHandler = methods;
    client.once('ready', () => resolve(client));
    // `on`, not `once`: a host going down mid-handshake emits a second error (a timeout, then the lost
    // connection); with no listener left, Node would end the whole run on it
    client.on('error', (err: Error & { level?: string }) => {
      // the agent failed (nothing behind SSH_AUTH_SOCK, a key it cannot sign with): ssh2 goes on with the next method
      if (err.level === 'agent') return;
      if (rejection) return reject(rejection);
      const level = err.level === 'client-authentication' ? 'authentication failed' : errorMessage(err);
      const hint =
        err.level === 'client-authentication'
          ? `Check ansible_user (${t.user}) and ansible_ssh_private_key_file${keyFile ? ` (${keyFile})` : ''}.` +
            (keyUnusable ? ` That key could not be used: ${keyUnusable}.` : '')
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
    // ssh2 writes each SSH packet on its own: with Nagle's algorithm one written right behind another (the
    // login's NEWKEYS and service request; a channel's EOF and close) waits for the first one's acknowledgement,
    // which the host's TCP delays ~40 ms. (Through a bastion the socket is a channel: ssh2 then does nothing.)
    client.setNoDelay(true);
    skipHostKeysProof(client);
  });
}

type GlobalRequestHandler = (protocol: ProtocolSends, name: string, wantReply: boolean, data: unknown) => void;
interface ProtocolSends {
  requestSuccess(): void;
  ping(): void;
}
interface ClientInternals {
  _protocol?: { _handlers?: Record<string, unknown> };
  _callbacks?: ((...args: unknown[]) => void)[];
}

/**
 * After the login an OpenSSH server lists all its host keys (`hostkeys-00@openssh.com`, for UpdateHostKeys), and
 * ssh2 answers every time by asking the server to prove it holds each one: the server signs with all its keys
 * (RSA included) and ssh2 verifies each signature, parsing each key again (~0.5 ms of the controller's CPU a
 * host). orch never learns keys that way (known_hosts is checked at the key exchange), so no proof is asked
 * for, as OpenSSH does with UpdateHostKeys off. A keepalive goes instead, at once: sshd sends without
 * TCP_NODELAY, so its next packet (the runner's channel opening) would wait for this one's acknowledgement,
 * which the controller's TCP delays ~40 ms when it has nothing to send. ssh2 has no option for any of it: its
 * protocol's handler is wrapped, and its keepalive answered as its own are; if ssh2 ever changes shape this
 * does nothing.
 */
function skipHostKeysProof(client: Client): void {
  const internals = client as unknown as ClientInternals;
  const handlers = internals._protocol?._handlers;
  const answer = handlers?.GLOBAL_REQUEST;
  const replies = internals._callbacks;
  if (!handlers || typeof answer !== 'function' || !Array.isArray(replies)) return;
  const wrapped: GlobalRequestHandler = (protocol, name, wantReply, data) => {
    if (name !== 'hostkeys-00@openssh.com') return (answer as GlobalRequestHandler)(protocol, name, wantReply, data);
    if (wantReply) protocol.requestSuccess();
    // the server's reply (success or failure) is taken off ssh2's queue of global-request callbacks, in order
    replies.push(() => undefined);
    protocol.ping();
  };
  handlers.GLOBAL_REQUEST = wrapped;
}

/**
 * Open the connection, through a chain of ProxyJump bastions when configured (the first hop is the
 * innermost). With `jumps`, a bastion's connection is shared by every host behind it.
 */
export async function openClient(t: SshTarget, jumps?: JumpHosts): Promise<Opened> {
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
