import { pyRepr } from '../template/python.js';
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

export const validateArgumentSpecModule: Module = {
  name: 'validate_argument_spec',
  local: true,
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
    // a role's task always passes its options: missing here, they were null (`options:` left empty)
    const fromRole = isDict(p.validate_args_context) && p.validate_args_context.type === 'role';
    if ((spec === undefined || spec === null) && !fromRole)
      throw new ModuleFailure(`"argument_spec" arg is required in args: ${pyRepr(p)}`, result);
    if (!isDict(spec))
      throw new ModuleFailure(
        `Incorrect type for argument_spec, expected dict and got ${pyType({ value: spec ?? null, yaml: true })}`,
        result,
      );
    const provided = p.provided_arguments ?? {};
    if (!isDict(provided))
      throw new ModuleFailure(
        `Incorrect type for provided_arguments, expected dict and got ${pyType({ value: provided, yaml: true })}`,
        result,
      );
    const values: Dict = {};
    for (const name of Object.keys(spec)) if (ctx.vars.has(name)) values[name] = ctx.vars.get(name);
    Object.assign(values, provided);
    let errors: string[];
    try {
      errors = validateArgumentSpec(spec, values);
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
