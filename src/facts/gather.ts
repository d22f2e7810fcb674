import type { BecomeSettings, Transport } from '../transport/types.js';
import { hardwareSection } from './hardware.js';
import { DEFAULT_FACT_PATH, localSection } from './local.js';
import { networkSection } from './network.js';
import { platformSection } from './platform.js';
import { factsProbe } from './probe.js';
import { SECTION_MARKER, type FactSection, type Facts, type FactSubset } from './sections.js';
import { dateTimeSection, envSection, userSection } from './session.js';
import { asGroups } from './subsets.js';
import { virtualSection } from './virtual.js';

export type { Facts } from './sections.js';

export interface GatherOptions {
  /** Ansible's gather_subset: `all` (default), `min`, `hardware`, `network`, `virtual`, each negatable with `!`. */
  subset?: readonly string[];
  /** Directory of custom `*.fact` files (default /etc/ansible/facts.d). */
  factPath?: string;
}

const SUBSETS: readonly FactSubset[] = ['min', 'hardware', 'network', 'virtual'];

/** Which groups a gather_subset list selects, as Ansible reads it (`min` always, unless `!min`). */
export function selectSubsets(subset: readonly string[] = ['all']): Set<FactSubset> {
  const include = new Set<string>();
  const exclude = new Set<string>();
  for (const s of asGroups(subset).filter(Boolean)) {
    if (s.startsWith('!')) exclude.add(s.slice(1));
    else include.add(s);
  }
  if (include.size === 0 && !exclude.has('all')) include.add('all');
  const chosen = new Set<FactSubset>(['min']);
  for (const s of SUBSETS) if (include.has(s) || (include.has('all') && !exclude.has(s))) chosen.add(s);
  for (const s of SUBSETS) if (exclude.has(s) && !include.has(s)) chosen.delete(s);
  return chosen;
}

export function factSections(opts: GatherOptions = {}): FactSection[] {
  const chosen = selectSubsets(opts.subset);
  const all = [
    platformSection,
    userSection,
    dateTimeSection,
    envSection,
    localSection(opts.factPath ?? DEFAULT_FACT_PATH),
    hardwareSection,
    networkSection,
    virtualSection,
  ];
  return all.filter((s) => chosen.has(s.subset));
}

/** One script for every section; each section's output follows a marker line. */
export function factsScript(sections: readonly FactSection[]): string {
  return [...sections.map((s) => `echo; echo '${SECTION_MARKER}${s.name}'; { ${s.script}; } 2>/dev/null`), 'true'].join(
    '\n',
  );
}

/** Pure: script output → facts (without the ansible_ prefix, as in `ansible_facts`). */
export function parseFacts(
  out: string,
  sections: readonly FactSection[] = factSections(),
  subset: readonly string[] = ['all'],
): Facts {
  const outputs = new Map<string, string>();
  for (const chunk of out.split(`\n${SECTION_MARKER}`).slice(1)) {
    const nl = chunk.indexOf('\n');
    outputs.set(chunk.slice(0, nl < 0 ? undefined : nl), nl < 0 ? '' : chunk.slice(nl + 1));
  }
  const facts: Facts = { gather_subset: [...subset], module_setup: true };
  for (const s of sections) Object.assign(facts, s.parse(outputs.get(s.name) ?? '', facts));
  return facts;
}

/** Facts as variables: `ansible_facts` plus the `ansible_*` names playbooks use. */
export function factVariables(facts: Facts, plainNames: ReadonlySet<string> = new Set()): Record<string, unknown> {
  const vars: Record<string, unknown> = { ansible_facts: facts };
  for (const [k, v] of Object.entries(facts))
    vars[
      k === 'module_setup' || k === 'gather_subset' || k.startsWith('ansible_') || plainNames.has(k)
        ? k
        : `ansible_${k}`
    ] = v;
  return vars;
}

/** As `become` (the play's: Ansible's setup runs with it, so ansible_user_id is root under `become: yes`). */
export async function gatherFacts(t: Transport, opts: GatherOptions = {}, become?: BecomeSettings): Promise<Facts> {
  const sections = factSections(opts);
  const r = await t.exec(factsProbe(sections), { become });
  return parseFacts(r.stdout, sections, opts.subset ?? ['all']);
}
