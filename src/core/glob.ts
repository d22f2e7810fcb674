/**
 * The one glob matcher of the tree. `*` matches any run of characters and `?` one character.
 * With `classes`, `[abc]`, `[a-z]` and `[!x]` are character classes as in Python's fnmatch (inventory
 * patterns, with_fileglob); without, brackets are literal characters, as in OpenSSH's ssh_config and
 * known_hosts patterns (where `[10.0.0.5]:2222` names a host on port 2222).
 */
export interface GlobOptions {
  classes: boolean;
  /** OpenSSH compares host names case-insensitively (match_hostname); fnmatch on POSIX does not */
  ignoreCase?: boolean;
}

const escapeChar = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** The body of a class (between the brackets), as a RegExp class. */
function classOf(stuff: string): string {
  const negate = stuff.startsWith('!');
  const body = (negate ? stuff.slice(1) : stuff).replace(/[\\\]^[]/g, '\\$&');
  return `[${negate ? '^' : ''}${body}]`;
}

function translate(glob: string, classes: boolean): string {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[' && classes) {
      // as fnmatch: a `]` right after `[` or `[!` belongs to the class; no closing bracket: a literal `[`
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) re += '\\[';
      else {
        re += classOf(glob.slice(i + 1, j));
        i = j;
      }
    } else re += escapeChar(c);
  }
  return re;
}

export function globToRegExp(glob: string, opts: GlobOptions): RegExp {
  try {
    return new RegExp(`^${translate(glob, opts.classes)}$`, opts.ignoreCase ? 'si' : 's');
  } catch {
    // a class JavaScript refuses (a reversed range such as [z-a]): it matches nothing, as in fnmatch
    return /(?!)/;
  }
}

export function globMatch(glob: string, text: string, opts: GlobOptions): boolean {
  return globToRegExp(glob, opts).test(text);
}

/** Whether a string has wildcards (for the given semantics). */
export function hasWildcards(glob: string, opts: GlobOptions): boolean {
  return opts.classes ? /[*?[]/.test(glob) : /[*?]/.test(glob);
}
