import { perlString } from '../modules/probe.js';
import { quote } from '../transport/quote.js';
import type { FactSection, Facts } from './sections.js';

export const DEFAULT_FACT_PATH = '/etc/ansible/facts.d';
const FILE_MARKER = '@@orch-fact-file:';

/** Custom facts: `*.fact` files in fact_path, JSON or INI, or executables printing JSON (`ansible_local`). */
export function localSection(factPath: string): FactSection {
  const dir = quote(factPath);
  return {
    name: 'local',
    subset: 'min',
    script: `for f in ${dir}/*.fact; do [ -f "$f" ] || continue; n=\${f##*/}; echo "${FILE_MARKER}\${n%.fact}"; if [ -x "$f" ]; then "$f" 2>/dev/null; else cat "$f"; fi; echo; done`,
    // the shell's glob: no dot files, in byte order
    perl: String.raw`my $dir = ${perlString(factPath)}; if (opendir(my $d, $dir)) {
  for my $n (sort grep { /\.fact\z/ && !/^\./ } readdir $d) { my $f = "$dir/$n"; next unless -f $f; (my $b = $n) =~ s/\.fact\z//;
    print ${perlString(FILE_MARKER)}, "$b\n", (-x $f ? $frun->($f) : $fread->($f) // ""), "\n"; } }`,
    parse: parseLocal,
  };
}

/** Python's configparser, as Ansible falls back to it: sections of `key = value` (or `key: value`) lines. */
function parseIni(text: string): Record<string, Record<string, string>> | undefined {
  const out: Record<string, Record<string, string>> = {};
  let section: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = out[head[1] ?? ''] = {};
      continue;
    }
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (!m || !section) return undefined;
    section[(m[1] ?? '').toLowerCase()] = m[2] ?? '';
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export function parseLocal(out: string): Facts {
  const local: Record<string, unknown> = {};
  const parts = out.split(`${FILE_MARKER}`).slice(1);
  for (const part of parts) {
    const nl = part.indexOf('\n');
    const name = part.slice(0, nl < 0 ? undefined : nl);
    const body = nl < 0 ? '' : part.slice(nl + 1).replace(/\n$/, '');
    try {
      local[name] = JSON.parse(body) as unknown;
    } catch {
      local[name] = parseIni(body) ?? `error loading facts as JSON or ini - please check content: ${name}.fact`;
    }
  }
  // Ansible keeps the prefix here: ansible_facts.ansible_local, and the variable ansible_local.
  return { ansible_local: local };
}
