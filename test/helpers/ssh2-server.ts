import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import ssh2, { type AuthContext, type ServerChannel } from 'ssh2';

// An SSH server on loopback made with ssh2's own Server: what ssh2's client really emits (exit-signal,
// auth errors) without a lab. `login` decides each authentication attempt; `exec` gets each exec channel.

const servers: ssh2.Server[] = [];
after(() => servers.forEach((s) => s.close()));

export async function loopbackServer(opts: {
  login: (ctx: AuthContext) => boolean;
  exec?: (channel: ServerChannel, command: string) => void;
}): Promise<number> {
  const hostKey = ssh2.utils.generateKeyPairSync('ed25519').private;
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => {
    client.on('authentication', (ctx) => (opts.login(ctx) ? ctx.accept() : ctx.reject(['password', 'publickey'])));
    client.on('error', () => undefined);
    client.on('ready', () =>
      client.on('session', (accept) =>
        accept().on('exec', (acceptExec, _reject, info) => opts.exec?.(acceptExec(), info.command)),
      ),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}
