/** @jsxRuntime automatic */
import { Box, render, Static, Text, useStdout } from 'ink';
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { RunEvent } from '../core/events.js';
import { duration, recapLines } from './format.js';
import { initialState, reduce, type HostRow, type StaticLine, type TuiState } from './tui-state.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

class Store {
  state: TuiState;
  private version = 0;
  private readonly listeners = new Set<() => void>();
  constructor(
    command: string,
    private readonly verbose: number,
  ) {
    this.state = initialState(command);
  }
  dispatch = (e: RunEvent) => {
    reduce(this.state, e, this.verbose);
    this.version++;
    for (const l of this.listeners) l();
  };
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };
  snapshot = () => this.version;
}

function colourFor(kind: StaticLine['kind']): string | undefined {
  return kind === 'failure'
    ? 'red'
    : kind === 'warning' || kind === 'interrupt'
      ? 'yellow'
      : kind === 'play'
        ? 'cyan'
        : kind === 'changed' || kind === 'unknown'
          ? 'yellow'
          : kind === 'release'
            ? 'green'
            : undefined;
}

export function diffLineColour(l: string): string | undefined {
  if (l.startsWith('+') && !l.startsWith('+++')) return 'green';
  if (l.startsWith('-') && !l.startsWith('---')) return 'red';
  return l.startsWith('@@') ? 'cyan' : undefined;
}

function DiffText({ text }: { text: string }) {
  return (
    <Box flexDirection="column">
      {text.split('\n').map((l, i) => (
        <Text key={i} color={diffLineColour(l)}>
          {l}
        </Text>
      ))}
    </Box>
  );
}

function Bar({ done, total, width }: { done: number; total: number; width: number }) {
  const frac = total === 0 ? 0 : Math.min(1, done / total);
  const full = Math.round(frac * width);
  return (
    <Text>
      <Text color="green">{'█'.repeat(full)}</Text>
      <Text dimColor>{'░'.repeat(width - full)}</Text> {done}/{total}
    </Text>
  );
}

function HostLine({ r, frame }: { r: HostRow; frame: number }) {
  const icon =
    r.state === 'running'
      ? SPINNER[frame % SPINNER.length]
      : r.state === 'failed'
        ? '✗'
        : r.state === 'unreachable'
          ? '!'
          : '✓';
  const colour = r.state === 'failed' || r.state === 'unreachable' ? 'red' : r.state === 'running' ? 'cyan' : 'green';
  return (
    <Text>
      <Text color={colour}>{icon}</Text> {r.name.padEnd(16)} <Text dimColor>ok={r.ok} </Text>
      <Text color="yellow">changed={r.changed} </Text>
      {r.failed > 0 ? <Text color="red">failed={r.failed} </Text> : null}
      <Text dimColor>{r.state === 'running' ? (r.task ?? '') : ''}</Text>
    </Text>
  );
}

/** Hosts that fit the terminal; the rest folded into one summary line. */
export function visibleHosts(
  rows: HostRow[],
  room: number,
): { shown: HostRow[]; folded: { running: number; done: number; failed: number } | undefined } {
  const order = (r: HostRow) => (r.state === 'failed' || r.state === 'unreachable' ? 0 : r.state === 'running' ? 1 : 2);
  const sorted = [...rows].sort((a, b) => order(a) - order(b));
  if (sorted.length <= room) return { shown: sorted, folded: undefined };
  const shown = sorted.slice(0, Math.max(0, room - 1));
  const rest = sorted.slice(shown.length);
  return {
    shown,
    folded: {
      running: rest.filter((r) => r.state === 'running').length,
      done: rest.filter((r) => r.state === 'idle').length,
      failed: rest.filter((r) => r.state === 'failed' || r.state === 'unreachable').length,
    },
  };
}

export function App({ store, rows }: { store: Store; rows?: number }) {
  useSyncExternalStore(store.subscribe, store.snapshot);
  const s = store.state;
  const { stdout } = useStdout();
  const height = rows ?? stdout.rows ?? 24;
  const [frame, setFrame] = useState(0);
  useEffect(() => {
    if (s.done) return;
    const t = setInterval(() => setFrame((f) => f + 1), 120);
    return () => clearInterval(t);
  }, [s.done]);
  const { shown, folded } = visibleHosts([...s.hosts.values()], Math.max(1, height - 9));
  const elapsed = duration(Date.now() - s.startedAt);
  return (
    <Box flexDirection="column">
      <Static items={s.lines}>
        {(l) =>
          l.kind === 'diff' ? (
            <DiffText key={l.id} text={l.text} />
          ) : (
            <Text key={l.id} color={colourFor(l.kind)} bold={l.kind === 'play'}>
              {l.text}
            </Text>
          )
        }
      </Static>
      {s.recap ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>PLAY RECAP ({duration(s.recap.durationMs)})</Text>
          {recapLines(s.recap.stats).map((l, i) => (
            <Text
              key={i}
              color={/failed=[1-9]|unreachable=[1-9]/.test(l) ? 'red' : /changed=[1-9]/.test(l) ? 'yellow' : 'green'}
            >
              {l}
            </Text>
          ))}
        </Box>
      ) : (
        <Box flexDirection="column" borderStyle="round" paddingX={1}>
          <Text>
            <Text bold>orch {s.command}</Text>{' '}
            <Text dimColor>
              {s.playbook.split('/').slice(-2).join('/')} · {s.hosts.size} hosts · {elapsed}
              {s.check ? ' · check mode' : ''}
            </Text>
          </Text>
          <Text>
            {s.batch ? `batch ${s.batch} · ` : ''}
            <Text color="cyan">{s.task ?? 'connecting'}</Text>
          </Text>
          <Bar done={s.taskDone} total={s.taskTotal} width={30} />
          {shown.map((r) => (
            <HostLine key={r.name} r={r} frame={frame} />
          ))}
          {folded ? (
            <Text dimColor>
              … {folded.running} more running, {folded.done} done, {folded.failed} failed
            </Text>
          ) : null}
          {s.interrupted ? <Text color="yellow">stopping: {s.interrupted}</Text> : null}
        </Box>
      )}
    </Box>
  );
}

export function createStore(command: string, verbose = 0): Store {
  return new Store(command, verbose);
}

export function startTui(opts: { command: string; verbose: number; redact: (s: string) => string }): {
  emit: (e: RunEvent) => void;
  finish: () => Promise<void>;
} {
  const store = new Store(opts.command, opts.verbose);
  const app = render(<App store={store} />, { exitOnCtrlC: false, patchConsole: false });
  return {
    emit: store.dispatch,
    finish: async () => {
      await new Promise((r) => setTimeout(r, 50));
      app.unmount();
      await app.waitUntilExit();
    },
  };
}
