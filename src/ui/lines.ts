import { unhandledEvent, type RunEvent } from '../core/events.js';
import { diffText, duration, outputTail, recapLines, releaseLines, resultLine } from './format.js';

/** Plain lines for CI and pipes: no escape codes, one line per host result, the same recap. */
export function lineReporter(write: (s: string) => void, verbose = 0): (e: RunEvent) => void {
  return (e) => {
    switch (e.type) {
      case 'run_start':
        write(
          `orch ${e.command}: inventory ${e.inventory}, playbook ${e.playbook}${e.check ? ' (check mode: nothing will change)' : ''}\n`,
        );
        break;
      case 'play_start':
        write(`\nPLAY [${e.name}] (${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'})\n`);
        break;
      case 'batch_start':
        write(`${e.block ? `BLOCK [${e.block}] ` : ''}BATCH ${e.index}/${e.total}: ${e.hosts.join(', ')}\n`);
        break;
      case 'task_start':
        write(`\n${e.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.role ? `${e.role} : ` : ''}${e.name}]\n`);
        break;
      case 'host_result': {
        write(`${resultLine(e)}\n`);
        if (e.at && !e.ignored) write(`  task at ${e.at}\n`);
        if (e.hint && (e.status === 'failed' || e.status === 'unreachable')) write(`  hint: ${e.hint}\n`);
        const d = diffText(e);
        if (d) write(d.endsWith('\n') ? d : `${d}\n`);
        const showOutput = verbose > 0 || (e.status === 'failed' && !e.ignored);
        if (showOutput && e.stderr)
          write(`  stderr:\n${outputTail(e.stderr, verbose > 0 ? 1000 : 10).replace(/^/gm, '    ')}\n`);
        if (verbose > 0 && e.stdout) write(`  stdout:\n${outputTail(e.stdout, 1000).replace(/^/gm, '    ')}\n`);
        break;
      }
      case 'retry':
        write(`FAILED - RETRYING: [${e.host}] ${e.task} (${e.retries - e.attempt + 1} retries left)\n`);
        break;
      case 'warning':
        write(`[WARNING]${e.host ? ` [${e.host}]` : ''}: ${e.msg}\n`);
        break;
      case 'interrupt':
        write(`\n[INTERRUPTED] ${e.signal}: ${e.msg}\n`);
        break;
      case 'releases':
        write(`\nRELEASES\n${releaseLines(e.releases).join('\n')}\n`);
        break;
      case 'recap':
        write(`\nPLAY RECAP (${duration(e.durationMs)})\n${recapLines(e.stats).join('\n')}\n`);
        break;
      case 'handler_flush':
      case 'run_end':
        break;
      default:
        unhandledEvent(e);
    }
  };
}
