import { globMatch } from '../core/glob.js';
import { factSections, parseFacts } from '../facts/gather.js';
import { badSubset, badSubsetMessage } from '../facts/subsets.js';
import { factsProbe } from '../facts/probe.js';
import { DEFAULT_FACT_PATH } from '../facts/local.js';
import { ModuleFailure, type Module } from './types.js';

/** `setup`: gather facts when a task asks (gather_subset, filter by name, fact_path), as the play's facts. */
export const setup: Module = {
  name: 'setup',
  gathersFacts: true,
  spec: {
    params: {
      gather_subset: { type: 'list', support: 'full', elements: 'str', default: ['all'] },
      filter: { type: 'list', support: 'full', elements: 'str', default: [] },
      fact_path: { type: 'path', support: 'full', default: DEFAULT_FACT_PATH },
      gather_timeout: { type: 'int', support: 'full', default: 10 },
    },
  },
  async run(ctx, p) {
    const subset = p.gather_subset as string[];
    const bad = badSubset(subset);
    if (bad !== undefined) throw new ModuleFailure(badSubsetMessage(bad));
    const sections = factSections({ subset, factPath: String(p.fact_path) });
    const r = await ctx.run(factsProbe(sections), { timeoutMs: Number(p.gather_timeout) * 1000 });
    const facts = parseFacts(r.stdout, sections, subset);
    const filters = p.filter as string[];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(facts)) {
      const name = k === 'module_setup' || k === 'gather_subset' || k.startsWith('ansible_') ? k : `ansible_${k}`;
      if (filters.length === 0 || filters.some((f) => globMatch(f, name, { classes: true }))) out[name] = v;
    }
    return { changed: false, ansible_facts: out };
  },
};
