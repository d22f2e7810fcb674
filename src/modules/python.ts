import { readFileSync } from 'node:fs';
import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { commandFailed, ModuleFailure, type ModuleContext } from './types.js';

/** The Python part's way out: done(**result) prints the JSON result, fail(msg, **keys) a failed one. */
export const PY_DONE_FAIL = String.raw`def done(**kw):
    sys.stdout.write(json.dumps(kw))
    sys.exit(0)


def fail(msg, **kw):
    kw.update(failed=True, msg=msg)
    done(**kw)
`;

const scripts = new Map<string, string>();

/**
 * A module's Python part kept in its own file (src/modules/NAME.py, whose header explains the protocol; the build
 * copies it next to dist/modules/), read once. The header (leading comment and blank lines) is dropped: the script
 * travels on the command line of every run.
 */
export function pythonScript(file: string): string {
  let text = scripts.get(file);
  if (text === undefined) {
    const lines = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8').split('\n');
    const start = lines.findIndex((l) => l.trim() !== '' && !l.startsWith('#'));
    text = lines.slice(start).join('\n');
    scripts.set(file, text);
  }
  return text;
}

/**
 * Run a module's Python 3 part on the host (get_url, unarchive, git): the script as one quoted argument, its input
 * as JSON on stdin (secrets never on a command line), one JSON result back. python3 is what Ansible needs on
 * every host it manages, so a host Ansible can manage runs these (with its ansible_python_interpreter). A
 * result with failed: true is thrown.
 */
export async function runPython(
  ctx: ModuleContext,
  module: string,
  script: string,
  input: Record<string, unknown>,
): Promise<ModuleResult> {
  // the host's ansible_python_interpreter when set to a path (not Ansible's auto discovery), else python3
  const set = ctx.vars.get('ansible_python_interpreter');
  const python = typeof set === 'string' && set !== '' && !set.startsWith('auto') ? set : 'python3';
  const needed = `${module}: ${python} is needed on the host (as for Ansible) and was not found`;
  const r = await ctx.run(
    sh`command -v ${python} >/dev/null || { echo ${needed} >&2; exit 127; }; exec ${python} -c ${script}`,
    { stdin: JSON.stringify(input) },
  );
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
