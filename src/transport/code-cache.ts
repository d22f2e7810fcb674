/**
 * The runner's cache of compiled Perl code (runner.pl: "Cached code"). A probe's or a write's code is mostly
 * the same routine for every host and task (stat a path, write a file atomically...) with a few values in
 * it, each a hex literal `pack("H*","…")` (modules/probe.ts perlString). Those literals are taken out as
 * arguments; what is left (the template) is sent to a runner once, with a number, and compiled there once;
 * later frames send the number and the arguments, still hex. Values thus never enter code as text.
 */

/** A value as perlString writes it: the only literals taken out of the code. */
const VALUE = /pack\("H\*","([0-9a-f]*)"\)/g;

/** Templates kept at most (process-wide, and in each runner): past it, code goes in full as before. */
const MAX_CODES = 500;

const ids = new Map<string, number>();

export interface CachedCode {
  id: number;
  template: string;
  /** the values, hex as perlString wrote them */
  args: string[];
}

/** The code as a template (its values `$ORCH_A[i]`, in order) and its values; undefined past MAX_CODES. */
export function cachedCode(code: string): CachedCode | undefined {
  const args: string[] = [];
  const template = code.replace(VALUE, (_, hex: string) => `$ORCH_A[${args.push(hex) - 1}]`);
  // an empty body after the id line is a reference (the runner tells them apart by it)
  if (template === '') return undefined;
  let id = ids.get(template);
  if (id === undefined) {
    if (ids.size >= MAX_CODES) return undefined;
    ids.set(template, (id = ids.size + 1));
  }
  return { id, template, args };
}

/**
 * The body of a cached probe or write frame: `<id>[ <hex>…]\n`, then the template when this runner has not
 * been sent it (`known`: the ids sent to this runner, updated here); undefined when the code is not cached.
 */
export function cachedBody(code: string, known: Set<number>): string | undefined {
  const c = cachedCode(code);
  if (!c) return undefined;
  const first = !known.has(c.id);
  known.add(c.id);
  return `${[c.id, ...c.args].join(' ')}\n${first ? c.template : ''}`;
}
