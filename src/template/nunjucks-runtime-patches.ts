/**
 * Patches 1, 2, 4 and 5 (nunjucks-patches.ts): functions of nunjucks' runtime replaced, so that names and
 * attributes are looked up, `in` is tested and values are printed as in Ansible's Jinja2.
 */
import nunjucks from 'nunjucks';
import { TemplateError } from '../core/errors.js';
import { dictMethod, pyRepr, stringMethod } from './python.js';
import { PySlice } from './slices.js';
import { Undefined } from './undefined.js';
import { failIfUnknown } from './unknown.js';
import { runtime } from './nunjucks-internals.js';

export function patchRuntime(): void {
  // 1. Names resolve through the frame (set, loop and macro variables), then the template module's own
  //    variables, then the task's VarScope, then the environment's globals; a missing name is an Undefined.
  runtime.contextOrFrameLookup = (context, frame, name) => {
    const local = frame.lookup(name);
    if (local !== undefined) return local;
    // The template module's own variables (ansible_managed, template_*) win over the play's, as in Ansible.
    const over = context.ctx.__orch_over;
    if (over && Object.prototype.hasOwnProperty.call(over, name)) return over[name];
    const scope = context.ctx.__orch_vars;
    if (scope?.has(name)) return scope.get(name);
    // Ansible's `vars`: every variable the task sees (vars[name], vars['ansible_' + nic])
    if (name === 'vars' && scope) return scope.asObject();
    if (name in context.env.globals) return context.env.globals[name];
    const fromCtx = (context.ctx as Record<string, unknown>)[name];
    if (fromCtx !== undefined) return fromCtx;
    return new Undefined(name);
  };
  // 2. Attribute and item lookups as Python's: string, list and dict methods (.startswith, .split, .index,
  //    .items, .get); a missing attribute or an index out of range is an Undefined with Python's reason.
  runtime.memberLookup = (obj, key) => {
    failIfUnknown(obj); // `orch plan`: hostvars['h'].result of a command that would run
    if (key instanceof PySlice && !(obj instanceof Undefined)) return key.apply(obj);
    if (obj instanceof Undefined) return new Undefined(`${obj.name}.${String(key)}`, obj.reason);
    if (obj === null || obj === undefined) return new Undefined(String(key), `cannot read '${String(key)}' of None`);
    const k = String(key);
    if (typeof obj === 'string')
      return (
        stringMethod(obj, k) ??
        (/^\d+$/.test(k) ? obj[Number(k)] : new Undefined(k, `'str object' has no attribute '${k}'`))
      );
    if (Array.isArray(obj)) {
      const idx = Number(key);
      if (Number.isInteger(idx))
        return idx < 0
          ? obj[obj.length + idx]
          : idx < obj.length
            ? obj[idx]
            : new Undefined(k, `list index ${k} out of range`);
      if (k === 'length') return obj.length;
      if (k === 'index')
        return (x: unknown) => {
          const i = obj.indexOf(x);
          if (i < 0) throw new TemplateError(`${JSON.stringify(x)} is not in list`);
          return i;
        };
      if (k === 'count') return (x: unknown) => obj.filter((y) => y === x).length;
      return new Undefined(k, `'list object' has no attribute '${k}'`);
    }
    if (typeof obj === 'object') {
      const d = obj as Record<string, unknown>;
      if (Object.prototype.hasOwnProperty.call(d, k)) return d[k];
      if (k in d && typeof d[k] === 'function') return (d[k] as (...a: unknown[]) => unknown).bind(d);
      return dictMethod(d, k) ?? new Undefined(k, `'dict object' has no attribute '${k}'`);
    }
    return undefined;
  };
  // 4. `'x' in missing` fails in Jinja (StrictUndefined's __contains__); nunjucks answered false.
  const inOperator = runtime.inOperator;
  runtime.inOperator = (key, val) => {
    for (const v of [key, val]) if (v instanceof Undefined) v.fail();
    return inOperator(key, val);
  };
  // 5. Printed values look like Python's (True, None, ['a']); printing an Undefined is an error.
  runtime.suppressValue = (val) => {
    if (val instanceof Undefined) val.fail();
    if (val instanceof nunjucks.runtime.SafeString) return val.toString(); // a macro's output
    return pyRepr(val);
  };
}
