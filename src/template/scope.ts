import { TemplateError } from '../core/errors.js';
import { PASSWORD_VARS, type Secrets } from '../core/secrets.js';
import type { LoopLookup } from './lookups.js';
import { failIfUnknown } from './unknown.js';

/** One source of variables: `templated` values may hold `{{ }}` that are expanded when read. */
export interface VarLayer {
  name: string;
  vars: Record<string, unknown>;
  /** false for registered results and set_fact values: never templated a second time. */
  templated: boolean;
  /**
   * The values are functions of the scope that reads them (the play context's variables): made at each read,
   * from that scope (a loop item's included); read while being made, undefined.
   */
  computed?: boolean;
}

export type Expand = (value: unknown, scope: VarScope) => unknown;

/** What the scopes of one run share (a scope with a layer more keeps its context). */
export interface ScopeContext {
  /** search paths for file and template lookups */
  lookupPaths: readonly string[];
  /** the run's secrets: a password variable's value is registered there when read */
  secrets: Secrets;
  /** lookup('dict'), query('sequence')...: the with_X loops of executor/loop.ts (which templates cannot import) */
  loopLookup?: LoopLookup;
}

/**
 * The variables one task sees on one host: layers from lowest to highest precedence, read lazily.
 * A value is templated the first time it is read, with cycle detection; results are cached.
 */
export class VarScope {
  private readonly cache = new Map<string, unknown>();
  private readonly resolving = new Set<string>();

  constructor(
    readonly layers: readonly VarLayer[],
    private readonly expand: Expand,
    readonly context: ScopeContext,
  ) {}

  get lookupPaths(): readonly string[] {
    return this.context.lookupPaths;
  }

  has(name: string): boolean {
    for (let i = this.layers.length - 1; i >= 0; i--)
      if (Object.prototype.hasOwnProperty.call(this.layers[i]?.vars, name)) return true;
    return false;
  }

  private find(name: string): VarLayer | undefined {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const layer = this.layers[i] as VarLayer;
      if (Object.prototype.hasOwnProperty.call(layer.vars, name)) return layer;
    }
    return undefined;
  }

  /** The value of a variable (templated), or undefined when no layer has it. */
  get(name: string): unknown {
    if (this.cache.has(name)) return this.cache.get(name);
    const layer = this.find(name);
    if (!layer) return undefined;
    const raw = layer.vars[name];
    if (layer.computed) return this.compute(name, raw as (scope: VarScope) => unknown);
    failIfUnknown(raw);
    // a password however it was set (play vars, set_fact, a template of a vaulted var): never printed
    if (
      PASSWORD_VARS.has(name) &&
      raw !== undefined &&
      raw !== null &&
      !(typeof raw === 'string' && raw.includes('{{'))
    )
      this.context.secrets.register(String(raw));
    if (!layer.templated) return raw;
    if (this.resolving.has(name)) {
      throw new TemplateError(`recursive loop detected in template for variable '${name}'`, {
        hint: `'${name}' refers to itself, directly or through other variables.`,
      });
    }
    this.resolving.add(name);
    try {
      const value = this.expand(raw, this);
      if (PASSWORD_VARS.has(name) && value !== undefined && value !== null)
        this.context.secrets.register(String(value));
      this.cache.set(name, value);
      return value;
    } finally {
      this.resolving.delete(name);
    }
  }

  private compute(name: string, make: (scope: VarScope) => unknown): unknown {
    if (this.resolving.has(name)) return undefined;
    this.resolving.add(name);
    try {
      return make(this);
    } finally {
      this.resolving.delete(name);
    }
  }

  /** The name of the layer a variable comes from (undefined when none has it). */
  layerOf(name: string): string | undefined {
    return this.find(name)?.name;
  }

  /** All variable names, for `vars` and debugging. */
  names(): string[] {
    const seen = new Set<string>();
    for (const l of this.layers) for (const k of Object.keys(l.vars)) seen.add(k);
    return [...seen];
  }

  /** The scope as a read-only mapping of its variables, each templated when read (hostvars[h], `vars`). */
  asObject(): Record<string, unknown> {
    return new Proxy({} as Record<string, unknown>, {
      get: (_t, k) => (typeof k === 'string' ? this.get(k) : undefined),
      has: (_t, k) => typeof k === 'string' && this.has(k),
      ownKeys: () => this.names(),
      getOwnPropertyDescriptor: (_t, k) =>
        typeof k === 'string' && this.has(k) ? { enumerable: true, configurable: true, value: this.get(k) } : undefined,
    });
  }

  /** A new scope with one more layer on top (loop item, task vars). */
  with(layer: VarLayer): VarScope {
    return new VarScope([...this.layers, layer], this.expand, this.context);
  }
}
