import type { ModuleResult } from '../core/result.js';
import { preparedDiff, pythonScript, runPython } from './python.js';
import { ModuleFailure, type Module } from './types.js';

/** ansible.builtin.git: the host's git driven as Ansible's module drives it (git.py). */

const PASSED = [
  'repo',
  'dest',
  'version',
  'remote',
  'refspec',
  'reference',
  'force',
  'depth',
  'clone',
  'update',
  'bare',
  'single_branch',
  'umask',
  'executable',
  'key_file',
  'ssh_opts',
  'accept_hostkey',
  'accept_newhostkey',
  'recursive',
];

export const git: Module = {
  name: 'git',
  spec: {
    params: {
      repo: { type: 'str', support: 'full', required: true, aliases: ['name'] },
      dest: { type: 'path', support: 'full' },
      version: { type: 'str', support: 'full', default: 'HEAD' },
      remote: { type: 'str', support: 'full', default: 'origin' },
      refspec: { type: 'str', support: 'full' },
      reference: { type: 'str', support: 'full' },
      force: { type: 'bool', support: 'full', default: false },
      depth: { type: 'int', support: 'full' },
      clone: { type: 'bool', support: 'full', default: true },
      update: { type: 'bool', support: 'full', default: true },
      bare: { type: 'bool', support: 'full', default: false },
      single_branch: { type: 'bool', support: 'full', default: false },
      umask: { type: 'str', support: 'full' },
      executable: { type: 'path', support: 'full' },
      key_file: { type: 'path', support: 'full' },
      ssh_opts: { type: 'str', support: 'full' },
      accept_hostkey: { type: 'bool', support: 'full', default: false },
      accept_newhostkey: { type: 'bool', support: 'full', default: false },
      recursive: { type: 'bool', support: 'full', default: true },
      track_submodules: {
        type: 'bool',
        support: 'none',
        default: false,
        note: 'submodules follow the commit recorded in the repository, not their remote branch',
      },
      verify_commit: { type: 'bool', support: 'none', default: false, note: 'no GPG verification' },
      gpg_whitelist: { type: 'list', support: 'none', elements: 'str', default: [], note: 'no GPG verification' },
      archive: { type: 'path', support: 'none', note: 'no git archive' },
      archive_prefix: { type: 'str', support: 'none', note: 'no git archive' },
      separate_git_dir: { type: 'path', support: 'none', note: 'no separate git dir' },
    },
    mutuallyExclusive: [
      ['separate_git_dir', 'bare'],
      ['accept_hostkey', 'accept_newhostkey'],
    ],
  },
  async run(ctx, p): Promise<ModuleResult> {
    // git reads an argument that begins with '-' as an option (clone --upload-pack=CMD runs CMD): no ref,
    // remote name or repository location begins so
    for (const k of ['repo', 'version', 'remote', 'reference', 'refspec']) {
      if (typeof p[k] === 'string' && p[k].startsWith('-'))
        throw new ModuleFailure(`git: ${k} must not begin with '-' (git would read it as an option): ${p[k]}`);
    }
    const input = Object.fromEntries(PASSED.map((k) => [k, p[k] ?? null]));
    const result = await runPython(ctx, 'git', pythonScript('git.py'), { ...input, check: ctx.check, diff: ctx.diff });
    preparedDiff(result, String(p.dest ?? p.repo));
    return result;
  },
};
