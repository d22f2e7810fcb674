import { globMatch } from '../core/glob.js';
import { quote } from '../transport/quote.js';
import { permissionFlags } from './mode.js';
import { perlString } from './probe.js';
import { pythonRegExp } from './pyregex.js';
import { ModuleFailure, type Module, type ModuleContext } from './types.js';

/** One file as GNU find prints it: 14 NUL-terminated fields (see FIELDS). */
const FIELDS = '%y\\0%m\\0%s\\0%U\\0%G\\0%u\\0%g\\0%A@\\0%T@\\0%C@\\0%i\\0%D\\0%n\\0%p\\0';

interface Found {
  type: string;
  mode: number;
  size: number;
  uid: number;
  gid: number;
  user: string;
  group: string;
  atime: number;
  mtime: number;
  ctime: number;
  inode: number;
  dev: number;
  nlink: number;
  path: string;
}

export function parseFindOutput(out: string): Found[] {
  const f = out.split('\0');
  const found: Found[] = [];
  for (let i = 0; i + 14 <= f.length; i += 14) {
    const [
      type = '',
      mode = '0',
      size,
      uid,
      gid,
      user = '',
      group = '',
      atime,
      mtime,
      ctime,
      inode,
      dev,
      nlink,
      path = '',
    ] = f.slice(i, i + 14);
    found.push({
      type,
      mode: parseInt(mode, 8),
      size: Number(size),
      uid: Number(uid),
      gid: Number(gid),
      user,
      group,
      atime: Number(atime),
      mtime: Number(mtime),
      ctime: Number(ctime),
      inode: Number(inode),
      dev: Number(dev),
      nlink: Number(nlink),
      path: path.replace(/^\n/, ''),
    });
  }
  return found;
}

/** Ansible's statinfo keys for one file. */
function statInfo(x: Found): Record<string, unknown> {
  return {
    path: x.path,
    mode: (x.mode & 0o7777).toString(8).padStart(4, '0'),
    isdir: x.type === 'd',
    ischr: x.type === 'c',
    isblk: x.type === 'b',
    isreg: x.type === 'f',
    isfifo: x.type === 'p',
    islnk: x.type === 'l',
    issock: x.type === 's',
    uid: x.uid,
    gid: x.gid,
    size: x.size,
    inode: x.inode,
    dev: x.dev,
    nlink: x.nlink,
    atime: x.atime,
    mtime: x.mtime,
    ctime: x.ctime,
    gr_name: x.group,
    pw_name: x.user,
    ...permissionFlags(x.mode),
  };
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const SIZES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "2d", "-1w", "10m", "-1k": [magnitude in base units, negative?] */
function amount(v: string, units: Record<string, number>, what: string): [number, boolean] {
  const m = /^(-?)(\d+)([a-z]?)$/i.exec(v.trim());
  const unit = m?.[3]?.toLowerCase() || Object.keys(units)[0] || '';
  if (!m || units[unit] === undefined) throw new ModuleFailure(`failed to process ${what} '${v}'`);
  return [Number(m[2]) * (units[unit] ?? 1), m[1] === '-'];
}

function nameMatches(name: string, patterns: string[], useRegex: boolean): boolean {
  return patterns.some((p) =>
    useRegex ? pythonRegExp(`^(?:${p})`).test(name) : globMatch(p, name, { classes: true }),
  );
}

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Pure: which of the found files the parameters select. */
export function selectFound(found: Found[], p: Record<string, unknown>, now: number): Found[] {
  const patterns = (p.patterns as string[] | undefined) ?? [];
  const excludes = (p.excludes as string[] | undefined) ?? [];
  const useRegex = p.use_regex === true;
  const type = String(p.file_type ?? 'file');
  const age = typeof p.age === 'string' ? amount(p.age, UNITS, 'age') : undefined;
  const size = typeof p.size === 'string' ? amount(p.size, SIZES, 'size') : undefined;
  const stampOf = (x: Found) => (p.age_stamp === 'atime' ? x.atime : p.age_stamp === 'ctime' ? x.ctime : x.mtime);
  return found.filter((x) => {
    const name = basename(x.path);
    if (name.startsWith('.') && p.hidden !== true) return false;
    if (type === 'file' && x.type !== 'f') return false;
    if (type === 'directory' && x.type !== 'd') return false;
    if (type === 'link' && x.type !== 'l') return false;
    if (patterns.length > 0 && !nameMatches(name, patterns, useRegex)) return false;
    if (excludes.length > 0 && nameMatches(name, excludes, useRegex)) return false;
    if (age) {
      const elapsed = now - stampOf(x);
      if (age[1] ? elapsed > age[0] : elapsed < age[0]) return false;
    }
    if (size && type === 'file' && (size[1] ? x.size > size[0] : x.size < size[0])) return false;
    return true;
  });
}

/** Files among `paths` with a line matching `contains` at its start (Python's re.match per line). */
async function withContent(ctx: ModuleContext, paths: string[], contains: string): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  pythonRegExp(contains); // a bad pattern fails here, with its message
  const code = `my $re = ${perlString(contains)}; for my $p (${paths.map(perlString).join(', ')}) { if (open(my $f, "<", $p)) { while (my $l = <$f>) { if ($l =~ /\\A(?:$re)/) { print $p, "\\0"; last; } } close $f; } }`;
  const r = await ctx.probe(code);
  return new Set(r.stdout.split('\0').filter(Boolean));
}

export const find: Module = {
  name: 'find',
  spec: {
    params: {
      paths: { type: 'list', support: 'full', elements: 'str', required: true, aliases: ['name', 'path'] },
      patterns: { type: 'list', support: 'full', elements: 'str', default: [], aliases: ['pattern'] },
      excludes: { type: 'list', support: 'full', elements: 'str', aliases: ['exclude'] },
      contains: { type: 'str', support: 'full' },
      file_type: { type: 'str', support: 'full', default: 'file', choices: ['any', 'directory', 'file', 'link'] },
      age: { type: 'str', support: 'full' },
      age_stamp: { type: 'str', support: 'full', default: 'mtime', choices: ['atime', 'ctime', 'mtime'] },
      size: { type: 'str', support: 'full' },
      recurse: { type: 'bool', support: 'full', default: false },
      hidden: { type: 'bool', support: 'full', default: false },
      follow: { type: 'bool', support: 'full', default: false },
      get_checksum: { type: 'bool', support: 'full', default: false },
      use_regex: { type: 'bool', support: 'full', default: false },
      depth: { type: 'int', support: 'full' },
    },
  },
  async run(ctx, p) {
    const paths = (p.paths as string[]).map((x) => x.replace(/\/+$/, '') || '/');
    const maxDepth = p.depth !== undefined ? Number(p.depth) : p.recurse === true ? undefined : 1;
    const script = paths
      .map(
        (dir) =>
          `if [ -d ${quote(dir)} ]; then find ${p.follow === true ? '-L ' : ''}${quote(dir)} -mindepth 1${maxDepth !== undefined ? ` -maxdepth ${maxDepth}` : ''} -printf '${FIELDS}'; else printf '\\0\\0skip\\0%s\\0' ${quote(dir)}; fi`,
      )
      .join('; ');
    const r = await ctx.run(`${script}; printf '\\0\\0now\\0%s' "$(date +%s.%N)"`);
    const skipped: Record<string, string> = {};
    let now = Date.now() / 1000;
    let out = r.stdout;
    out = out.replace(/\0\0skip\0([^\0]*)\0/g, (_m, dir: string) => {
      skipped[dir] = `${dir} was skipped as it does not seem to be a valid directory or it cannot be accessed`;
      return '';
    });
    out = out.replace(/\0\0now\0([\d.]+)$/, (_m, t: string) => {
      now = Number(t);
      return '';
    });
    const found = parseFindOutput(out);
    let chosen = selectFound(found, p, now);
    if (typeof p.contains === 'string' && p.contains !== '') {
      const hits = await withContent(
        ctx,
        chosen.filter((x) => x.type === 'f').map((x) => x.path),
        p.contains,
      );
      chosen = chosen.filter((x) => hits.has(x.path));
    }
    const files = chosen.map(statInfo);
    if (p.get_checksum === true) {
      const regular = chosen.filter((x) => x.type === 'f').map((x) => x.path);
      if (regular.length > 0) {
        const c = await ctx.run(`sha1sum -z -- ${regular.map(quote).join(' ')}`);
        const sums = new Map(
          c.stdout
            .split('\0')
            .filter(Boolean)
            .map((l) => [l.slice(42), l.slice(0, 40)]),
        );
        for (const f of files) if (sums.has(String(f.path))) f.checksum = sums.get(String(f.path));
      }
    }
    for (const w of Object.values(skipped)) ctx.warn(w);
    return {
      changed: false,
      files,
      matched: files.length,
      examined: found.length,
      skipped_paths: skipped,
      msg: Object.keys(skipped).length ? 'Not all paths examined, check warnings for details' : 'All paths examined',
    };
  },
};
