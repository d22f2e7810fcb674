import type { FileDiff, ModuleResult } from '../core/result.js';
import { sh } from '../transport/quote.js';
import { APT_ENV } from './apt.js';
import { writeRemote } from './remote-file.js';
import type { Params } from './spec.js';
import { commandFailed, defineStateModule, ModuleFailure, type ModuleContext } from './types.js';

// ansible.builtin.apt_repository (2.14): sources.list and sources.list.d/*.list read as its SourcesList
// does (each line parsed, then written back in its own normal form), the new line added to a file named
// from the repo line, or every enabled copy of it removed.

const SOURCE_TYPES = ['deb', 'deb-src'];

export interface SourceLine {
  n: number;
  valid: boolean;
  enabled: boolean;
  source: string;
  comment: string;
}

export interface SourcesState {
  sourceList: string;
  partsDir: string;
  /** path → raw text, sources.list first, then sources.list.d/*.list */
  files: [string, string][];
}

interface SourcesChange {
  writes: [string, string][];
  removes: string[];
  /** files that got a new line (Ansible sets `mode` on them) */
  added: Set<string>;
  before: SourcesState;
}

class InvalidSource extends Error {}

/** SourcesList._parse: a line split into enabled / source / comment. */
export function parseSourceLine(raw: string, mustBeValid = false): Omit<SourceLine, 'n'> {
  let line = raw.trim();
  let enabled = true;
  let comment = '';
  let valid = false;
  if (line.startsWith('#')) {
    enabled = false;
    line = line.slice(1);
  }
  const i = line.indexOf('#');
  if (i > 0) {
    comment = line.slice(i + 1).trim();
    line = line.slice(0, i);
  }
  let source = line.trim();
  if (source) {
    const chunks = source.split(/\s+/);
    if (SOURCE_TYPES.includes(chunks[0] as string)) {
      valid = true;
      source = chunks.join(' ');
    }
  }
  if (mustBeValid && (!valid || !enabled)) throw new InvalidSource(line);
  return { valid, enabled, source, comment };
}

/** Python's line iteration of a text file (universal newlines). */
function pyLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function loadSources(text: string): SourceLine[] {
  return pyLines(text).map((l, n) => ({ n, ...parseSourceLine(l) }));
}

export function dumpSources(lines: SourceLine[]): string {
  return lines.map((l) => `${l.enabled ? '' : '# '}${l.source}${l.comment ? ` # ${l.comment}` : ''}\n`).join('');
}

/** SourcesList._suggest_filename: the file a new source goes to. */
export function suggestFilename(source: string, filename?: string): string {
  if (filename !== undefined) return `${filename}.list`;
  const line = source.replace(/\[[^\]]+\]/g, '').replace(/\w+:\/\//g, '');
  const parts = line.split(/\s+/).filter((p) => p && !SOURCE_TYPES.includes(p));
  let first = parts[0] ?? '';
  if (first.includes('@')) first = first.slice(first.indexOf('@') + 1);
  return `${first
    .replace(/[^a-zA-Z0-9]/g, ' ')
    .split(/\s+/)
    .filter((x) => x)
    .join('_')}.list`;
}

function expandPath(file: string, partsDir: string): string {
  if (file.includes('/')) return file;
  return normalize(`${partsDir.replace(/\/+$/, '')}/${file}`);
}

/** os.path.abspath for an absolute path: `.`/`..` and repeated slashes resolved. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

function dumpAll(files: Map<string, SourceLine[]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [path, lines] of files) if (lines.length > 0) out.set(path, dumpSources(lines));
  return out;
}

/** Pure: the files after adding or removing `repo`, and what to write to get there. */
export function planSources(
  p: Params,
  s: SourcesState,
): { changes: SourcesChange; result: Partial<ModuleResult> } | null {
  const repo = String(p.repo ?? '');
  if (!repo) throw new ModuleFailure("Please set argument 'repo' to a non-empty value");
  if (repo.startsWith('ppa:'))
    throw new ModuleFailure(
      'apt_repository: ppa: repositories are not implemented by orch (they need Launchpad): give the deb line and its key',
    );
  const files = new Map<string, SourceLine[]>(s.files.map(([path, text]) => [path, loadSources(text)]));
  const before = dumpAll(files);
  const added = new Set<string>();
  let source: string;
  try {
    source = parseSourceLine(repo, true).source;
  } catch (err) {
    if (err instanceof InvalidSource) throw new ModuleFailure(`Invalid repository string: ${err.message}`);
    throw err;
  }
  if (p.state === 'absent') {
    // as Python pops entries by their line number from the list it is iterating
    for (const lines of files.values()) {
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i] as SourceLine;
        if (l.valid && l.enabled && l.source === source) lines.splice(l.n, 1);
      }
    }
  } else {
    let found = false;
    for (const lines of files.values()) {
      for (const l of lines) {
        if (l.valid && l.source === source) {
          l.enabled = true;
          found = true;
        }
      }
    }
    if (!found) {
      const file = expandPath(
        suggestFilename(source, p.filename === undefined || p.filename === null ? undefined : String(p.filename)),
        s.partsDir,
      );
      const lines = files.get(file) ?? [];
      lines.push({ n: lines.length, valid: true, enabled: true, source, comment: '' });
      files.set(file, lines);
      added.add(file);
    }
  }
  const after = dumpAll(files);
  const same = before.size === after.size && [...before].every(([f, t]) => after.get(f) === t);
  if (same) return null;
  const raw = new Map(s.files);
  const writes: [string, string][] = [];
  const removes: string[] = [];
  // SourcesList.save rewrites every file it read in its normal form, and deletes the ones left empty
  for (const [path, lines] of files) {
    if (lines.length === 0) {
      if (raw.has(path)) removes.push(path);
    } else if (raw.get(path) !== after.get(path) || added.has(path)) writes.push([path, after.get(path) as string]);
  }
  const diff: FileDiff[] = [...new Set([...before.keys(), ...after.keys()])].map((f) => ({
    path: f,
    before: before.get(f) ?? '',
    after: after.get(f) ?? '',
  }));
  return { changes: { writes, removes, added, before: s }, result: { diff } };
}

async function querySources(ctx: ModuleContext): Promise<SourcesState> {
  const script = [
    'L=/etc/apt/sources.list; P=/etc/apt/sources.list.d/',
    'eval "$(apt-config shell L Dir::Etc::sourcelist/f P Dir::Etc::sourceparts/d 2>/dev/null)"',
    'printf "D|%s|%s\\n" "$L" "$P"',
    'for f in "$L" "${P%/}"/*.list; do [ -f "$f" ] || continue; printf "F|%s|" "$f"; base64 -w0 < "$f" || exit 1; echo; done',
  ].join('\n');
  const r = await ctx.run(script);
  if (r.rc !== 0) throw commandFailed('reading apt sources', r);
  const s: SourcesState = { sourceList: '/etc/apt/sources.list', partsDir: '/etc/apt/sources.list.d/', files: [] };
  for (const line of r.stdout.split('\n')) {
    if (line.startsWith('D|')) {
      const [, l = '', d = ''] = line.split('|');
      s.sourceList = l;
      s.partsDir = d;
    } else if (line.startsWith('F|')) {
      const cut = line.lastIndexOf('|');
      s.files.push([line.slice(2, cut), Buffer.from(line.slice(cut + 1), 'base64').toString('utf8')]);
    }
  }
  return s;
}

async function restore(ctx: ModuleContext, c: SourcesChange): Promise<void> {
  const old = new Map(c.before.files);
  for (const [path] of c.writes) {
    const text = old.get(path);
    if (text === undefined) await ctx.run(sh`rm -f -- ${path}`);
    else await writeRemote(ctx, path, text);
  }
  for (const path of c.removes) await writeRemote(ctx, path, old.get(path) ?? '');
}

/** apt-get update as python-apt's cache.update(), retried with Ansible's backoff. */
async function updateCache(ctx: ModuleContext, p: Params): Promise<string | undefined> {
  const retries = Number(p.update_cache_retries ?? 5);
  const maxDelay = Number(p.update_cache_retry_max_delay ?? 12);
  let err = '';
  for (let retry = 0; retry < retries; retry++) {
    const r = await ctx.run(`${APT_ENV} apt-get update -q --error-on=any`);
    if (r.rc === 0) return undefined;
    err =
      r.stderr
        .split('\n')
        .filter((l) => /^[EW]:/.test(l))
        .join(', ') || r.stderr.trim();
    if (retry + 1 < retries) await new Promise((res) => setTimeout(res, Math.min(2 ** retry, maxDelay) * 1000));
  }
  return err || 'unknown reason';
}

export const aptRepository = defineStateModule<SourcesState, SourcesChange>({
  name: 'apt_repository',
  spec: {
    params: {
      repo: { type: 'str', support: 'partial', required: true, note: 'deb/deb-src lines; ppa: is refused' },
      state: { type: 'str', support: 'full', default: 'present', choices: ['absent', 'present'] },
      mode: { type: 'mode', support: 'full' },
      update_cache: { type: 'bool', support: 'full', default: true, aliases: ['update-cache'] },
      update_cache_retries: { type: 'int', support: 'full', default: 5 },
      update_cache_retry_max_delay: { type: 'int', support: 'full', default: 12 },
      filename: { type: 'str', support: 'full' },
      install_python_apt: { type: 'bool', support: 'full', default: true, note: 'orch needs no python-apt' },
      validate_certs: { type: 'bool', support: 'full', default: true, note: 'used by Ansible only for ppa:' },
      codename: { type: 'str', support: 'full', note: 'used by Ansible only for ppa:' },
    },
  },
  query: (ctx) => querySources(ctx),
  plan: planSources,
  describe: (p) => ({ repo: p.repo, state: p.state }),
  async apply(ctx, p, c) {
    for (const [path, text] of c.writes) {
      const mode = c.added.has(path) && p.mode !== undefined ? String(p.mode) : undefined;
      await ctx.run(sh`mkdir -p -- ${path.replace(/\/[^/]*$/, '') || '/'}`);
      await writeRemote(ctx, path, text, { mode });
    }
    if (c.removes.length > 0) await ctx.run(sh`rm -f -- ${c.removes}`);
    if (p.update_cache === true) {
      const err = await updateCache(ctx, p);
      if (err !== undefined) {
        await restore(ctx, c);
        throw new ModuleFailure(`Failed to update apt cache: ${err}`, { repo: p.repo, state: p.state });
      }
    }
  },
});
