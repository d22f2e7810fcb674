import { containsTemplate } from '../playbook/args.js';
import { renderValue } from '../template/env.js';
import { pyRepr } from '../template/python.js';
import type { VarScope } from '../template/scope.js';
import { validateArgumentSpec, SpecCrash } from './argspec.js';
import { pyType } from './argspec-types.js';
import { ModuleFailure, type Module } from './types.js';

/**
 * ansible.builtin.validate_argument_spec, on the controller: the options of an argument spec checked against
 * `provided_arguments` and the variables of the same names (as a role's implicit first task does). The
 * variables are only checked, never converted.
 */

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a variable's value is YAML as written (no template in it): Ansible keeps those strings AnsibleUnicode. */
function literalVar(scope: VarScope, name: string): boolean {
  for (let i = scope.layers.length - 1; i >= 0; i--) {
    const vars = scope.layers[i]?.vars;
    if (vars && Object.prototype.hasOwnProperty.call(vars, name)) return !containsTemplate(vars[name]);
  }
  return false;
}

export const validateArgumentSpecModule: Module = {
  name: 'validate_argument_spec',
  local: true,
  // rendered here, to know which values were templates (their strings are str, not AnsibleUnicode, in messages)
  rawParams: ['provided_arguments'],
  spec: {
    params: {
      argument_spec: { type: 'raw', support: 'full' },
      provided_arguments: { type: 'raw', support: 'full' },
      validate_args_context: { type: 'raw', support: 'full' },
    },
  },
  async run(ctx, p) {
    const result: Dict = { validate_args_context: p.validate_args_context ?? {} };
    const spec = p.argument_spec;
    if (spec === undefined || spec === null)
      throw new ModuleFailure(`"argument_spec" arg is required in args: ${pyRepr(p)}`, result);
    if (!isDict(spec))
      throw new ModuleFailure(
        `Incorrect type for argument_spec, expected dict and got ${pyType({ value: spec, yaml: true })}`,
        result,
      );
    const raw = p.provided_arguments ?? {};
    const provided = typeof raw === 'string' ? renderValue(raw, ctx.vars) : raw;
    if (!isDict(provided))
      throw new ModuleFailure(
        `Incorrect type for provided_arguments, expected dict and got ${pyType({ value: provided, yaml: true })}`,
        result,
      );
    const values: Dict = {};
    const yaml = new Map<string, boolean>();
    for (const name of Object.keys(spec))
      if (ctx.vars.has(name)) {
        values[name] = ctx.vars.get(name);
        yaml.set(name, literalVar(ctx.vars, name));
      }
    for (const [k, v] of Object.entries(provided)) {
      values[k] = typeof raw === 'string' ? v : renderValue(v, ctx.vars);
      yaml.set(k, typeof raw !== 'string' && !containsTemplate(v));
    }
    let errors: string[];
    try {
      errors = validateArgumentSpec(spec, values, (k) => yaml.get(k) ?? false);
    } catch (err) {
      if (!(err instanceof SpecCrash || err instanceof RangeError)) throw err;
      throw new ModuleFailure(`Unexpected failure during module execution: ${err.message}`, result);
    }
    if (errors.length === 0) return { ...result, changed: false, msg: 'The arg spec validation passed' };
    return {
      ...result,
      changed: false,
      failed: true,
      msg: `Validation of arguments failed:\n${errors.join('\n')}`,
      argument_spec_data: spec,
      argument_errors: errors,
    };
  },
};
