/**
 * Symbolic modes (`u+x`, `g-w`, `u=rwX`, `a+r,u+w`) turned into the octal mode they give on a path, as
 * Ansible's file module computes it (module_utils/basic.py `_symbolic_mode_to_octal`): so the plan can
 * compare with the current mode, and the change applied is the octal number that was compared.
 */

const PERM_BITS = 0o7777;
const WHO_BITS: Record<'u' | 'g' | 'o', number> = { u: 0o4700, g: 0o2070, o: 0o1007 };
const SHIFT: Record<'u' | 'g' | 'o', number> = { u: 6, g: 3, o: 0 };

/** The bits one `perms` string (`rwX`, `s`, or a copy like `u`) stands for, for one class of users. */
function bitsFor(who: 'u' | 'g' | 'o', perms: string, prev: number, isDir: boolean, umask: number | undefined): number {
  const shift = SHIFT[who];
  const masked = (bit: number) => (umask === undefined ? bit : bit & ~umask);
  let bits = 0;
  for (const c of perms) {
    if (c === 'r') bits |= masked(0o4 << shift);
    else if (c === 'w') bits |= masked(0o2 << shift);
    else if (c === 'x') bits |= masked(0o1 << shift);
    else if (c === 'X') {
      if (isDir || (prev & 0o111) !== 0) bits |= 0o1 << shift;
    } else if (c === 's') bits |= who === 'u' ? 0o4000 : who === 'g' ? 0o2000 : 0;
    else if (c === 't') bits |= who === 'o' ? 0o1000 : 0;
    else if (c === 'u' || c === 'g' || c === 'o') bits |= ((prev >> SHIFT[c]) & 0o7) << shift;
    else throw new Error(`bad symbolic permission for mode: ${perms}`);
  }
  return bits;
}

/**
 * The mode `symbolic` gives a path whose mode is `current`. `umask` applies to clauses without a
 * user class (`+x` is `a+x` minus the umask's bits), as chmod and Ansible do.
 */
export function symbolicToOctal(symbolic: string, current: number, isDir: boolean, umask = 0o022): number {
  let mode = current & PERM_BITS;
  for (const clause of symbolic.split(',')) {
    const m = /^([ugoa]*)((?:[-+=][rwxXstugo]*)+)$/.exec(clause);
    if (!m) throw new Error(`bad symbolic permission for mode: ${clause}`);
    const whoText = m[1] ?? '';
    const useUmask = whoText === '';
    const who = (whoText === '' || whoText.includes('a') ? ['u', 'g', 'o'] : [...new Set(whoText)]) as (
      'u' | 'g' | 'o'
    )[];
    for (const [, op = '', perms = ''] of (m[2] ?? '').matchAll(/([-+=])([rwxXstugo]*)/g)) {
      for (const w of who) {
        const bits = bitsFor(w, perms, mode, isDir, useUmask ? umask : undefined);
        if (op === '=') mode = (mode & ~WHO_BITS[w]) | bits;
        else if (op === '+') mode |= bits;
        else mode &= ~bits;
      }
    }
  }
  return mode;
}

export function isSymbolicMode(mode: string): boolean {
  return !/^[0-7]+$/.test(mode);
}

/** The wanted mode as four octal digits, given the path's current mode (octal string) and type. */
export function octalMode(mode: string, current: string | undefined, isDir: boolean, umask?: number): string {
  if (!isSymbolicMode(mode)) return mode.padStart(4, '0');
  return symbolicToOctal(mode, parseInt(current ?? '0', 8), isDir, umask)
    .toString(8)
    .padStart(4, '0');
}

/** The permission flags Ansible's stat and find report for a mode (module_utils: stat's `permissions`). */
export function permissionFlags(mode: number): Record<string, boolean> {
  const bit = (b: number) => (mode & b) !== 0;
  return {
    wusr: bit(0o200),
    rusr: bit(0o400),
    xusr: bit(0o100),
    wgrp: bit(0o20),
    rgrp: bit(0o40),
    xgrp: bit(0o10),
    woth: bit(0o2),
    roth: bit(0o4),
    xoth: bit(0o1),
    isuid: bit(0o4000),
    isgid: bit(0o2000),
  };
}
