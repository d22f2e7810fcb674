import { isDeepStrictEqual } from 'node:util';
import { ParseError } from '../core/errors.js';

export interface Host {
  name: string;
  vars: Record<string, unknown>;
}

export interface Group {
  name: string;
  vars: Record<string, unknown>;
  hosts: Set<string>;
  children: Set<string>;
}

/** A host's group or host variables, as a scope layer (templated when read). */
export interface InventoryVarLayer {
  name: string;
  vars: Record<string, unknown>;
  templated: true;
}

/** The implicit localhost's own variable, as Ansible gives it (over the `all` group's). */
const IMPLICIT_LOCALHOST_VARS: Readonly<Record<string, unknown>> = Object.freeze({ ansible_connection: 'local' });

/** The names Ansible takes for the machine it runs on. */
export const isLocalhostName = (name: string): boolean => name === 'localhost' || name === '127.0.0.1';

/** Hosts and groups as Ansible models them: `all` holds every host, `ungrouped` those in no other group. */
export class Inventory {
  readonly hosts = new Map<string, Host>();
  readonly groups = new Map<string, Group>();
  /** Host names in the order they were first seen (Ansible keeps file order). */
  readonly order: string[] = [];

  /** hostsOf/groupNames answers: asked per host for every task, so kept until the inventory changes */
  private readonly memo = {
    hostsOf: new Map<string, string[]>(),
    groupNames: new Map<string, string[]>(),
    varLayers: new Map<string, readonly InventoryVarLayer[]>(),
  };

  /** moves on every change of hosts, groups or their variables */
  version = 0;

  constructor(readonly source: string) {
    this.group('all');
    this.group('ungrouped');
  }

  /** Every change of membership starts with group(), host() or addChild(): they forget the answers. */
  private changed(): void {
    this.version++;
    this.memo.hostsOf.clear();
    this.memo.groupNames.clear();
    this.memo.varLayers.clear();
  }

  group(name: string): Group {
    this.changed();
    let g = this.groups.get(name);
    if (!g) {
      g = { name, vars: {}, hosts: new Set(), children: new Set() };
      this.groups.set(name, g);
    }
    return g;
  }

  host(name: string): Host {
    this.changed();
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, vars: {} };
      this.hosts.set(name, h);
      this.order.push(name);
    }
    return h;
  }

  addChild(parent: string, child: string, file: string, line?: number): void {
    this.changed();
    if (parent === child) throw new ParseError(`group '${parent}' cannot be its own child`, { file, line });
    this.group(parent).children.add(child);
    this.group(child);
    if (this.descendants(child).has(parent)) {
      throw new ParseError(`groups '${parent}' and '${child}' contain each other`, { file, line }, 'Remove one of the :children entries.');
    }
  }

  /** A group and every group below it. */
  descendants(name: string): Set<string> {
    const out = new Set<string>();
    const walk = (n: string) => {
      for (const c of this.groups.get(n)?.children ?? []) {
        if (!out.has(c)) {
          out.add(c);
          walk(c);
        }
      }
    };
    walk(name);
    return out;
  }

  /** Hosts of a group, children included, in inventory order. */
  hostsOf(groupName: string): string[] {
    if (groupName === 'all') return [...this.order];
    let hosts = this.memo.hostsOf.get(groupName);
    if (!hosts) {
      const names = new Set<string>();
      for (const g of [groupName, ...this.descendants(groupName)]) {
        for (const h of this.groups.get(g)?.hosts ?? []) names.add(h);
      }
      hosts = this.order.filter((h) => names.has(h));
      this.memo.hostsOf.set(groupName, hosts);
    }
    return [...hosts];
  }

  /** Every group a host belongs to (directly or through children), `all` excluded. */
  groupNames(host: string): string[] {
    let out = this.memo.groupNames.get(host);
    if (!out) {
      const members = new Map([...this.groups.keys()].filter((g) => g !== 'all').map((g) => [g, new Set(this.hostsOf(g))]));
      for (const h of this.order) {
        this.memo.groupNames.set(h, [...members].filter(([, m]) => m.has(h)).map(([g]) => g).sort());
      }
      out = this.memo.groupNames.get(host) ?? [];
      this.memo.groupNames.set(host, out);
    }
    return [...out];
  }

  /** Depth of a group below `all` (for var precedence: deeper groups win). */
  depth(name: string): number {
    if (name === 'all') return 0;
    let best = 0;
    for (const g of this.groups.values()) if (g.children.has(name)) best = Math.max(best, this.depth(g.name) + 1);
    return best === 0 ? 1 : best;
  }

  /** Finish loading: hosts in no group go to `ungrouped`; top groups become children of `all`. */
  finalize(): void {
    const grouped = new Set<string>();
    for (const g of this.groups.values()) if (g.name !== 'all' && g.name !== 'ungrouped') for (const h of g.hosts) grouped.add(h);
    for (const h of this.order) if (!grouped.has(h)) this.group('ungrouped').hosts.add(h);
    const all = this.group('all');
    for (const g of this.groups.values()) {
      if (g.name === 'all') continue;
      const hasParent = [...this.groups.values()].some((p) => p.name !== 'all' && p.children.has(g.name));
      if (!hasParent) all.children.add(g.name);
    }
  }

  /**
   * add_host during a run, as Ansible's inventory does it: the host (new ones join `all`), its vars merged
   * over the ones it has, and the groups it joins (created when new). True when anything changed.
   */
  addDynamicHost(name: string, groups: string[], vars: Record<string, unknown>, source: string): boolean {
    let changed = !this.hosts.has(name);
    const h = this.host(name);
    const merged = { ...h.vars, ...vars };
    if (!isDeepStrictEqual(merged, h.vars)) {
      h.vars = merged;
      this.changed(); // the memoized var layers hold the old object
      changed = true;
    }
    for (const g of groups) {
      if (!this.groups.has(g)) changed = true;
      changed = this.joinGroup(g, name) || changed;
    }
    if (changed) this.reconcile(source);
    return changed;
  }

  /** group_by during a run: the host joins `group`, which becomes a child of each parent (created when new). */
  addDynamicGroup(host: string, group: string, parents: string[], source: string): boolean {
    let changed = false;
    this.group(group);
    for (const p of parents) {
      if (!this.groups.has(p)) changed = true;
      const isNew = !this.group(p).children.has(group);
      this.addChild(p, group, source);
      changed = isNew || changed;
    }
    changed = this.joinGroup(group, host) || changed;
    if (changed) this.reconcile(source);
    return changed;
  }

  /** True when the host was not in the group yet. */
  private joinGroup(group: string, host: string): boolean {
    const g = this.group(group);
    if (g.hosts.has(host)) return false;
    g.hosts.add(host);
    return true;
  }

  /** Ansible's rules after a change: every group under `all`, `ungrouped` holds exactly the hosts in no other group. */
  private reconcile(source: string): void {
    this.changed();
    for (const g of this.groups.values()) {
      if (g.name === 'all') continue;
      if (![...this.groups.values()].some((p) => p.children.has(g.name))) this.addChild('all', g.name, source);
    }
    const ungrouped = this.group('ungrouped').hosts;
    for (const h of this.order) {
      const others = this.groupNames(h).filter((g) => g !== 'ungrouped');
      if (others.length > 0) ungrouped.delete(h);
      else ungrouped.add(h);
    }
    this.changed();
  }

  /** localhost or 127.0.0.1 this inventory lacks: Ansible's implicit localhost (a pattern or delegate_to names it). */
  isImplicitLocalhost(name: string): boolean {
    return isLocalhostName(name) && !this.hosts.has(name);
  }

  /** Group vars then host vars for one host, lowest precedence first. */
  varLayers(host: string): readonly InventoryVarLayer[] {
    const kept = this.memo.varLayers.get(host);
    if (kept) return kept;
    const groups = ['all', ...this.groupNames(host)].sort((a, b) => this.depth(a) - this.depth(b) || a.localeCompare(b));
    const layers: InventoryVarLayer[] = [
      ...groups.map((g) => ({ name: `group_vars/${g}`, vars: this.groups.get(g)?.vars ?? {}, templated: true as const })),
      {
        name: `host_vars/${host}`,
        vars: this.hosts.get(host)?.vars ?? (this.isImplicitLocalhost(host) ? IMPLICIT_LOCALHOST_VARS : {}),
        templated: true,
      },
    ];
    this.memo.varLayers.set(host, layers);
    return layers;
  }
}
