import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../core/errors.js';
import type { Secrets } from '../core/secrets.js';
import { pyTruthy } from '../template/python.js';
import { keyPosition, loadYamlFile, withPositionOf } from '../yaml/load.js';
import type { RoleContext } from './model.js';

/**
 * A role's argument specs (meta/argument_specs.yml, else `argument_specs` in meta/main.yml) and the task Ansible
 * puts first in the role for the entry point used: "Validating arguments against arg spec 'main'", tagged always.
 */

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const EXTENSIONS = ['.yml', '.yaml', '.json'];

function loadSpecs(rolePath: string, secrets: Secrets): { specs: unknown; file: string } | undefined {
  const meta = join(rolePath, 'meta');
  const own = EXTENSIONS.map((e) => join(meta, `argument_specs${e}`)).find((p) => existsSync(p));
  if (own) {
    const data = loadYamlFile(own, secrets);
    // as Ansible: the file's argument_specs, or nothing (the file wins over meta/main.yml even then)
    return { specs: isDict(data) ? data.argument_specs : undefined, file: own };
  }
  const main = EXTENSIONS.map((e) => join(meta, `main${e}`)).find((p) => existsSync(p));
  const data = main ? loadYamlFile(main, secrets) : undefined;
  return main && isDict(data) ? { specs: data.argument_specs, file: main } : undefined;
}

/**
 * The validation task of this entry point as a task entry of a tasks file, or undefined when there is none.
 * Tagged always, except under include_role: there Ansible first selects the include itself by its tags (orch
 * loads it in place, its tags inherited), so `--tags X` runs the validation only when it selects the include.
 */
export function validationTask(
  role: RoleContext,
  entryPoint: string,
  params: Dict,
  included: boolean,
  secrets: Secrets,
): { task: Dict; file: string } | undefined {
  const found = loadSpecs(role.path, secrets);
  if (!found || found.specs === undefined || found.specs === null) return undefined;
  if (!isDict(found.specs))
    throw new ParseError(`argument_specs of role '${role.name}' must be a mapping of entry points`, {
      file: found.file,
    });
  const spec = found.specs[entryPoint];
  // as Ansible: an empty spec (Python-false) adds no task
  if (!pyTruthy(spec)) return undefined;
  if (!isDict(spec))
    throw new ParseError(
      `argument_specs.${entryPoint} of role '${role.name}' must be a mapping`,
      keyPosition(found.specs, entryPoint) ?? { file: found.file },
    );
  let name = `Validating arguments against arg spec '${entryPoint}'`;
  if ('short_description' in spec) name += ` - ${String(spec.short_description)}`;
  // errors of the task point at the entry point's spec
  const task = {
    name,
    'ansible.builtin.validate_argument_spec': {
      argument_spec: spec.options === undefined ? {} : spec.options,
      provided_arguments: params,
      validate_args_context: { type: 'role', name: role.name, argument_spec_name: entryPoint, path: role.path },
    },
    tags: included ? [] : ['always'],
  };
  return { task: withPositionOf(task, spec), file: found.file };
}
