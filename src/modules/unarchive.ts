import { readFileSync } from 'node:fs';
import type { ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { expandRemoteUser } from './expand-user.js';
import { withPathInfo } from './path-info.js';
import { preparedDiff, pythonScript, runPython } from './python.js';
import { statRemote } from './remote-file.js';
import type { Params } from './spec.js';
import { commandFailed, ModuleFailure, type Module, type ModuleContext } from './types.js';

/**
 * ansible.builtin.unarchive: Ansible's action (creates, dest must be a directory, a controller file copied to
 * a private temp directory on the host) here; the module itself runs on the host (unarchive.py).
 */

/** Copy the controller's archive to a new private directory on the host; returns that directory. */
async function upload(ctx: ModuleContext, src: string, decrypt: boolean): Promise<string> {
  const local = ctx.findLocal('files', src);
  if (!local)
    throw new ModuleFailure(
      `Could not find or access '${src}' on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option`,
    );
  const data = readFileSync(local);
  if (decrypt && data.subarray(0, 15).toString('latin1') === '$ANSIBLE_VAULT;')
    throw new ModuleFailure(
      `unarchive: ${src} is vault-encrypted; orch does not decrypt archives (decrypt: yes is not implemented)`,
    );
  const r = await ctx.run('set -e\nd=$(mktemp -d)\ncat > "$d/source"\necho "$d"', { stdin: data });
  if (r.rc !== 0) throw commandFailed(`copying ${src} to the host`, r);
  return r.stdout.trim();
}

export const unarchive: Module = withPathInfo({
  name: 'unarchive',
  spec: {
    params: {
      src: { type: 'str', support: 'full', required: true },
      dest: { type: 'path', support: 'full', required: true },
      remote_src: { type: 'bool', support: 'full', default: false },
      copy: { type: 'bool', support: 'full' },
      creates: { type: 'path', support: 'full' },
      list_files: { type: 'bool', support: 'full', default: false },
      keep_newer: { type: 'bool', support: 'full', default: false },
      exclude: { type: 'list', support: 'full', elements: 'str', default: [] },
      include: { type: 'list', support: 'full', elements: 'str', default: [] },
      extra_opts: { type: 'list', support: 'full', elements: 'str', default: [] },
      mode: { type: 'mode', support: 'full' },
      owner: { type: 'str', support: 'full' },
      group: { type: 'str', support: 'full' },
      validate_certs: { type: 'bool', support: 'full', default: true },
      io_buffer_size: { type: 'int', support: 'full', default: 65536 },
      decrypt: {
        type: 'bool',
        support: 'partial',
        default: true,
        note: 'a vault-encrypted archive fails (decrypt: no copies it as it is)',
      },
    },
    mutuallyExclusive: [
      ['include', 'exclude'],
      ['copy', 'remote_src'],
    ],
  },
  async run(ctx, p: Params): Promise<ModuleResult> {
    const remoteSrc = p.copy !== undefined ? p.copy === false : p.remote_src === true;
    const dest = await expandRemoteUser(ctx, String(p.dest));
    if (
      typeof p.creates === 'string' &&
      (await statRemote(ctx, await expandRemoteUser(ctx, p.creates), false, true)).exists
    ) {
      return { changed: false, skipped: true, msg: `skipped, since ${p.creates} exists` };
    }
    const d = await statRemote(ctx, dest, false, true);
    if (!d.exists || d.type !== 'directory') throw new ModuleFailure(`dest '${dest}' must be an existing dir`);
    const tmp = remoteSrc ? undefined : await upload(ctx, String(p.src), p.decrypt !== false);
    const input = {
      src: tmp ? `${tmp}/source` : String(p.src),
      dest,
      remote_src: remoteSrc,
      check: ctx.check,
      cleanup: tmp ?? null,
      ...Object.fromEntries(
        [
          'exclude',
          'include',
          'extra_opts',
          'list_files',
          'keep_newer',
          'validate_certs',
          'mode',
          'owner',
          'group',
        ].map((k) => [k, p[k] ?? null]),
      ),
    };
    let result: ModuleResult;
    try {
      result = await runPython(ctx, 'unarchive', pythonScript('unarchive.py'), input);
    } catch (err) {
      if (err instanceof ModuleFailure) preparedDiff(err.extra, dest);
      // the script did not run to its end (no python3...): the copied archive is removed here
      if (tmp && !(err instanceof ModuleFailure && err.extra.failed)) await ctx.run(sh`rm -rf -- ${tmp}`);
      throw err;
    }
    preparedDiff(result, dest);
    return result;
  },
});
