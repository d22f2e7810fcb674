/**
 * The fact script is made of sections, each a shell fragment whose output a pure parser turns into facts.
 * All sections run in one script (one round trip); a marker line separates their outputs.
 */
export type Facts = Record<string, unknown>;

/** Ansible's gather_subset groups a section belongs to. */
export type FactSubset = 'min' | 'hardware' | 'network' | 'virtual';

export interface FactSection {
  name: string;
  subset: FactSubset;
  /** Shell fragment; its stdout goes to `parse`. */
  script: string;
  /**
   * The same output from Perl, for the facts probe (facts/probe.ts): no process where the shell forks one.
   * May use the probe's helpers ($fread, $fcat, $fhead, $flines, $fwhich, $frun). Without it, the probe runs
   * `script` with sh.
   */
  perl?: string;
  /** Pure: the fragment's output (and facts parsed by earlier sections) → facts. */
  parse(out: string, earlier: Facts): Facts;
}

export const SECTION_MARKER = '@@orch-facts:';

/** `key=value` lines → a map (later keys win; values keep everything after the first `=`). */
export function keyValues(out: string): Map<string, string> {
  const kv = new Map<string, string>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).replace(/^"(.*)"$/, '$1'));
  }
  return kv;
}

export function num(v: string | undefined, fallback = 0): number {
  const n = Number(v);
  return v === undefined || v === '' || Number.isNaN(n) ? fallback : n;
}
