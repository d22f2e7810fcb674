import { ModuleFailure, type Module } from './types.js';

/** `package_facts` on Debian: installed packages from dpkg, as Ansible's apt backend lists them. */
export const packageFacts: Module = {
  name: 'package_facts',
  gathersFacts: true,
  spec: {
    params: {
      manager: { type: 'list', support: 'partial', note: 'only apt (dpkg)', elements: 'str', default: ['auto'] },
      strategy: { type: 'str', support: 'full', default: 'first', choices: ['first', 'all'] },
    },
  },
  async run(ctx, p) {
    const managers = p.manager as string[];
    if (!managers.some((m) => m === 'auto' || m === 'apt'))
      throw new ModuleFailure(
        `orch reads packages with dpkg (manager apt); '${managers.join(', ')}' is not available on this host`,
      );
    const r = await ctx.run(
      "dpkg-query -W -f='${db:Status-Status}\\t${binary:Package}\\t${Version}\\t${Architecture}\\t${Section}\\n'",
    );
    if (r.rc !== 0)
      throw new ModuleFailure(`Could not detect a supported package manager from the following list: ['apt']`, {
        rc: r.rc,
        stderr: r.stderr,
      });
    return { changed: false, ansible_facts: { packages: parseDpkgList(r.stdout) } };
  },
};

export interface PackageEntry {
  name: string;
  version: string;
  arch: string;
  category: string;
  origin: string;
  source: 'apt';
}

/** Installed packages by name (a list: a name can be installed for two architectures). */
export function parseDpkgList(out: string): Record<string, PackageEntry[]> {
  const packages: Record<string, PackageEntry[]> = {};
  for (const line of out.split('\n')) {
    const [status, full = '', version = '', arch = '', section = ''] = line.split('\t');
    if (status !== 'installed') continue;
    const name = full.split(':')[0] ?? full;
    (packages[name] ??= []).push({
      name,
      version,
      arch,
      category: section.split('/').pop() ?? section,
      origin: '',
      source: 'apt',
    });
  }
  return packages;
}
