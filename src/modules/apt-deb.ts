import { sh } from '../transport/quote.js';
import type { Params } from './spec.js';
import { ModuleFailure } from './types.js';

// apt's `deb`: .deb files (paths on the host, or URLs fetched there as Ansible fetches them), installed
// unless the same version of the package is installed already.

export interface DebFile {
  /** the deb as given (path or URL) */
  source: string;
  name: string;
  version: string;
  installed?: string;
}

/** The debs of the parameter, comma-separated as Ansible splits them. */
export function debSources(p: Params): string[] {
  if (p.deb === undefined || p.deb === null || p.deb === '') return [];
  if (p.state !== undefined && p.state !== 'present' && p.state !== 'installed')
    throw new ModuleFailure('deb only supports state=present');
  return String(p.deb).split(',');
}

/** A path apt-get reads as a file (never as a package name or an option). */
const asFile = (path: string) => (path.startsWith('/') ? path : `./${path}`);

/** Shell that sets "$f" to a local file for deb number i (a URL downloaded to a temp file). */
function fetch(source: string): string {
  if (!source.includes('://')) return sh`f=${asFile(source)}`;
  return `f=$(mktemp --suffix=.deb) && tmp="$tmp $f" && ${sh`curl -fsSL -o "$f" --url ${source}`} || { echo "DEBERR|${source.replace(/[^A-Za-z0-9:/._-]/g, '')}"; exit 0; }`;
}

/** One round trip: package name, version and the installed version of every deb. */
export function debQueryScript(sources: string[]): string {
  const lines = ['tmp=', `trap 'rm -f -- $tmp' EXIT`];
  sources.forEach((source, i) => {
    lines.push(fetch(source));
    lines.push(`n=$(dpkg-deb -f "$f" Package) && v=$(dpkg-deb -f "$f" Version) || { echo "DEBBAD|${i}"; exit 0; }`);
    lines.push(
      `printf 'DEB|${i}|%s|%s|%s\\n' "$n" "$v" "$(dpkg-query -W -f='\${db:Status-Abbrev}\${Version}' -- "$n" 2>/dev/null)"`,
    );
  });
  return `( ${lines.join('\n')}\n)`;
}

export function parseDebs(sources: string[], stdout: string): DebFile[] {
  const err = /^DEBERR\|(.*)$/m.exec(stdout);
  if (err) throw new ModuleFailure(`Failure downloading ${err[1]}`);
  const bad = /^DEBBAD\|(\d+)$/m.exec(stdout);
  if (bad)
    throw new ModuleFailure(`Unable to install package: ${sources[Number(bad[1])] ?? ''} is not a Debian package`);
  return stdout.split('\n').flatMap((l) => {
    const [tag, i, name = '', version = '', status = ''] = l.split('|');
    if (tag !== 'DEB') return [];
    return [
      {
        source: sources[Number(i)] ?? '',
        name,
        version,
        installed: status.startsWith('ii ') ? status.slice(3) : undefined,
      },
    ];
  });
}

/** Debs whose package is not installed at that version. */
export const debsToInstall = (debs: DebFile[]) => debs.filter((d) => d.installed !== d.version).map((d) => d.source);

/** Shell installing the debs with apt-get (their dependencies from the archive), URLs fetched again. */
export function debInstallScript(sources: string[], aptGet: string): string {
  const lines = ['set -e', 'tmp=', `trap 'rm -f -- $tmp' EXIT`, 'set --'];
  for (const source of sources) {
    if (source.includes('://'))
      lines.push('f=$(mktemp --suffix=.deb); tmp="$tmp $f"', sh`curl -fsSL -o "$f" --url ${source}`);
    else lines.push(sh`f=${asFile(source)}`);
    lines.push('set -- "$@" "$f"');
  }
  lines.push(`${aptGet} -- "$@"`);
  return lines.join('\n');
}
