import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { commandFailed, ModuleFailure, type ModuleContext } from './types.js';

/**
 * Run a module's Python 3 part on the host (get_url, unarchive): the script as one quoted argument, its input
 * as JSON on stdin (secrets never on a command line), one JSON result back. python3 is what Ansible needs on
 * every host it manages, so a host Ansible can manage runs these. A result with failed: true is thrown.
 */
export async function runPython(ctx: ModuleContext, module: string, script: string, input: Record<string, unknown>, timeoutMs?: number): Promise<ModuleResult> {
  const needed = `${module}: python3 is needed on the host (as for Ansible) and was not found`;
  const r = await ctx.run(sh`command -v python3 >/dev/null || { echo ${needed} >&2; exit 127; }; exec python3 -c ${script}`, { stdin: JSON.stringify(input), timeoutMs });
  let result: ModuleResult;
  try {
    result = JSON.parse(r.stdout) as ModuleResult;
  } catch {
    throw commandFailed(module, r);
  }
  if (result.failed) throw new ModuleFailure(String(result.msg), result);
  return result;
}

/** Ansible's `diff: {prepared: text}` (unarchive, git) as orch's diff entries. */
export function preparedDiff(result: Partial<ModuleResult>, path: string): void {
  if (result.diff === undefined || Array.isArray(result.diff)) return;
  const prepared = (result.diff as { prepared?: string }).prepared;
  result.diff = prepared === undefined ? [] : [{ path, header: 'prepared', before: '', after: prepared }];
}
