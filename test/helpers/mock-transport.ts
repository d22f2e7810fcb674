import { Secrets } from '../../src/core/secrets.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { emptyStats, type RunEvent } from '../../src/core/events.js';
import type { ConnectionPool } from '../../src/executor/connections.js';
import { runPlay } from '../../src/executor/play.js';
import { HostState, type RunOptions, type RunState } from '../../src/executor/state.js';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import type { ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';
import { writePlaybook } from './lab.js';

/*
 * MOCK: an in-memory transport that replaces SSH for unit tests of the executor (test/unit/executor/).
 * Nothing leaves the process: each command is recorded and answered by `answer` (rc 0, no output by default).
 * It proves what the executor decides and sends, never what a real host does (the lab tests do that).
 */

export interface SentCommand {
  host: string;
  command: string;
  opts: ExecOptions;
  /** how many events the run had emitted when the command was sent */
  eventsBefore: number;
}

export type Answer = (host: string, command: string, opts: ExecOptions) => Partial<ExecResult> | undefined;

export class MockTransport implements Transport {
  readonly stats = { execs: 0, commands: 0, roundTrips: 0, bytesSent: 0, bytesReceived: 0 };

  constructor(
    readonly host: string,
    private readonly log: { sent: SentCommand[]; events: RunEvent[] },
    private readonly answer: Answer,
    /** as the ssh transport's runner: commands given at once are sent back to back */
    readonly pipelines = false,
  ) {}

  /** `answer` may throw (a ConnectError makes the host unreachable). */
  async exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.log.sent.push({ host: this.host, command, opts, eventsBefore: this.log.events.length });
    this.stats.commands++;
    this.stats.roundTrips++;
    await Promise.resolve();
    return { rc: 0, stdout: '', stderr: '', ...this.answer(this.host, command, opts) };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** MOCK of the connection pool: one MockTransport per host, the hosts whose connection was dropped. */
export function mockPool(
  log: { sent: SentCommand[]; events: RunEvent[] },
  answer: Answer,
  pipelines = false,
): { pool: ConnectionPool; dropped: string[] } {
  const open = new Map<string, MockTransport>();
  const dropped: string[] = [];
  const get = (host: string) => {
    let t = open.get(host);
    if (!t) open.set(host, (t = new MockTransport(host, log, answer, pipelines)));
    return Promise.resolve(t);
  };
  const pool = {
    get,
    reconnect: get,
    probe: () => Promise.resolve(),
    drop: (host: string) => {
      dropped.push(host);
      open.delete(host);
    },
    roundTrips: () => Promise.resolve({}),
    closeAll: () => Promise.resolve(),
  };
  return { pool: pool as unknown as ConnectionPool, dropped };
}

export interface MockRun {
  rs: RunState;
  events: RunEvent[];
  sent: SentCommand[];
  dropped: string[];
}

/** A RunState over an INI inventory (written to a temp file), with the mock pool and every event kept. */
export function mockRunState(
  inventory: string,
  opts: Partial<RunOptions> = {},
  answer: Answer = () => undefined,
  pipelines = false,
): MockRun {
  const dir = mkdtempSync(join(tmpdir(), 'orch-mock-'));
  writeFileSync(join(dir, 'hosts'), inventory);
  const secrets = new Secrets();
  const inv = loadInventory(join(dir, 'hosts'), secrets);
  const events: RunEvent[] = [];
  const sent: SentCommand[] = [];
  const { pool, dropped } = mockPool({ sent, events }, answer, pipelines);
  const hosts = new Map(inv.order.map((h) => [h, new HostState(h, emptyStats())]));
  const rs: RunState = {
    inv,
    secrets,
    opts: {
      check: false,
      diff: false,
      forks: 5,
      tags: [],
      skipTags: [],
      extraVars: {},
      verbose: 0,
      acceptNewHostKeys: false,
      connectTimeoutMs: 1000,
      ...opts,
    },
    emit: (e) => events.push(e),
    pool,
    hosts,
    limit: pLimit(5),
    playbookDir: dir,
    inventoryDir: dir,
    stopping: {},
  };
  return { rs, events, sent, dropped };
}

/** Run every play of a playbook (YAML text, written beside `files`) on the mock hosts, as runPlaybook does. */
export async function runMockPlaybook(
  yaml: string,
  inventory = 'h1\nh2\n',
  opts: {
    files?: Record<string, string>;
    answer?: Answer;
    run?: Partial<RunOptions>;
    /** the mock transport pipelines commands (as the ssh runner does) */
    pipelines?: boolean;
    /** called before the first play (to give hosts facts, say) */
    before?: (rs: RunState) => void;
  } = {},
): Promise<MockRun> {
  const m = mockRunState(inventory, opts.run, opts.answer, opts.pipelines);
  const playbook = loadPlaybook(writePlaybook(yaml, opts.files), { secrets: m.rs.secrets });
  m.rs.playbookDir = playbook.dir;
  opts.before?.(m.rs);
  for (const play of playbook.plays) await runPlay(m.rs, play);
  return m;
}

/**
 * "host task status" for each host_result in order; the hosts of one task in name order (they report as they
 * finish, in any order).
 */
export function resultLines(events: RunEvent[], skippedMeta = false): string[] {
  const out: { taskId: number; line: string }[] = [];
  for (const e of events)
    // a meta task its condition skips is shown as skipped (not counted): left out unless skippedMeta
    if (e.type === 'host_result' && (skippedMeta || e.module !== 'meta'))
      out.push({ taskId: e.taskId, line: `${e.host} ${e.task} ${e.status}` });
  const lines: string[] = [];
  for (let i = 0; i < out.length;) {
    let j = i;
    while (j < out.length && out[j]?.taskId === out[i]?.taskId) j++;
    lines.push(
      ...out
        .slice(i, j)
        .map((x) => x.line)
        .sort(),
    );
    i = j;
  }
  return lines;
}

/** The messages of the run's warnings, in order. */
export function warnings(events: RunEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'warning' ? [e.msg] : []));
}
