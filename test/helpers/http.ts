import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The controller's address on the test lab's bridge (lab hosts reach it; nothing else is needed). */
export const BRIDGE = `${process.env.ORCH_LAB_SUBNET ?? '10.214.0'}.1`;

export interface TestServer {
  base: string;
  /** Requests seen so far, in order. */
  requests(): { method: string; path: string; headers: Record<string, string> }[];
  stop(): void;
}

/** Serve `dir` over HTTP on the bridge address (a child process: tests block in spawnSync); https with `tls`. */
export async function startHttpServer(
  dir: string,
  credentials = 'user:secret',
  tls?: { cert: string; key: string },
): Promise<TestServer> {
  const work = mkdtempSync(join(tmpdir(), 'orch-http-'));
  const portFile = join(work, 'port');
  const log = join(work, 'requests.ndjson');
  const script = join(dirname(fileURLToPath(import.meta.url)), 'http-server.py');
  const child: ChildProcess = spawn(
    'python3',
    [script, dir, BRIDGE, portFile, log, credentials, ...(tls ? [tls.cert, tls.key] : [])],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 50));
  const port = readFileSync(portFile, 'utf8').trim();
  if (!port) throw new Error('test HTTP server did not start');
  return {
    base: `${tls ? 'https' : 'http'}://${BRIDGE}:${port}`,
    requests: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter((l) => l)
            .map((l) => JSON.parse(l) as { method: string; path: string; headers: Record<string, string> })
        : [],
    stop: () => void child.kill(),
  };
}
