import { readFileSync } from 'node:fs';
import { ModuleError } from '../core/errors.js';
import { pyRepr } from '../template/python.js';
import { isUndefined, UndefinedVariableError } from '../template/undefined.js';
import { loadYamlFile } from '../yaml/load.js';
import { ModuleFailure, type Module } from './types.js';

/** Modules that run on the controller: no round trip to the host. */

export const debug: Module = {
  name: 'debug',
  local: true,
  spec: {
    params: {
      msg: { type: 'raw', support: 'full' },
      var: { type: 'str', support: 'full' },
      verbosity: { type: 'int', support: 'full', default: 0 },
    },
    mutuallyExclusive: [['msg', 'var']],
  },
  async run(ctx, p) {
    if (typeof p.verbosity === 'number' && p.verbosity > (ctx.verbosity ?? 0))
      return { changed: false, skipped: true, skipped_reason: 'Verbosity threshold not met.' };
    if (typeof p.var === 'string') {
      let value: unknown;
      try {
        value = ctx.evaluate(p.var);
        if (isUndefined(value)) value = 'VARIABLE IS NOT DEFINED!';
      } catch (err) {
        // as Ansible: an undefined variable (or key, or attribute) is shown, not a failure
        if (!(err instanceof UndefinedVariableError)) throw err;
        value = 'VARIABLE IS NOT DEFINED!';
      }
      return { changed: false, [p.var]: value, msg: `${p.var}: ${pyRepr(value, true)}` };
    }
    return { changed: false, msg: p.msg ?? 'Hello world!' };
  },
};

export const assertModule: Module = {
  name: 'assert',
  local: true,
  rawParams: ['that'],
  spec: {
    params: {
      // raw: a string is one condition (Ansible's assert wraps it; a list parameter would split it at commas)
      that: { type: 'raw', support: 'full', required: true },
      fail_msg: { type: 'raw', support: 'full', aliases: ['msg'] },
      success_msg: { type: 'raw', support: 'full' },
      quiet: { type: 'bool', support: 'full', default: false },
    },
  },
  async run(ctx, p) {
    for (const cond of Array.isArray(p.that) ? p.that : [p.that]) {
      const v = typeof cond === 'boolean' ? cond : ctx.evaluate(String(cond));
      if (!v || (Array.isArray(v) && v.length === 0)) {
        return {
          changed: false,
          failed: true,
          assertion: cond,
          evaluated_to: false,
          msg: p.fail_msg !== undefined ? p.fail_msg : 'Assertion failed',
        };
      }
    }
    return { changed: false, msg: p.success_msg ?? 'All assertions passed' };
  },
};

export const fail: Module = {
  name: 'fail',
  local: true,
  spec: { params: { msg: { type: 'raw', support: 'full', default: 'Failed as requested from task' } } },
  async run(_ctx, p) {
    return { changed: false, failed: true, msg: typeof p.msg === 'string' ? p.msg : pyRepr(p.msg) };
  },
};

/** Any keys: they become host variables (highest precedence below extra vars). */
export const setFact: Module = {
  name: 'set_fact',
  local: true,
  spec: { params: {}, anyParams: true },
  async run(ctx, p) {
    const facts: Record<string, unknown> = {};
    // a key may be templated (`"{{ item.key }}": value`), as Ansible allows
    for (const [k, v] of Object.entries(p)) {
      const name = k.includes('{{') ? ctx.render(k).trim() : k;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new ModuleFailure(
          `The variable name '${name}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.`,
        );
      facts[name] = v;
    }
    delete facts.cacheable;
    if (Object.keys(facts).length === 0) throw new ModuleFailure('set_fact needs at least one variable');
    // as Ansible's set_fact: a string true/false/yes/no becomes a boolean
    for (const [k, v] of Object.entries(facts))
      if (typeof v === 'string' && /^(true|false|yes|no)$/i.test(v)) facts[k] = /^(true|yes)$/i.test(v);
    return { changed: false, ansible_facts: facts };
  },
};

export const includeVars: Module = {
  name: 'include_vars',
  local: true,
  spec: {
    params: {
      file: { type: 'path', support: 'full' },
      _raw_params: { type: 'path', support: 'full' },
      name: { type: 'str', support: 'full' },
    },
    freeForm: '_raw_params',
  },
  async run(ctx, p) {
    const want = String(p.file ?? p._raw_params);
    const found = ctx.findLocal('vars', want);
    if (!found) throw new ModuleFailure(`could not find vars file '${want}'`);
    const data = found.endsWith('.json')
      ? JSON.parse(readFileSync(found, 'utf8'))
      : loadYamlFile(found, ctx.vars.context.secrets);
    if (data !== null && (typeof data !== 'object' || Array.isArray(data)))
      throw new ModuleError(`${found}: a vars file must be a mapping`);
    const vars = (data ?? {}) as Record<string, unknown>;
    return {
      changed: false,
      ansible_facts: typeof p.name === 'string' ? { [p.name]: vars } : vars,
      ansible_included_var_files: [found],
    };
  },
};

/** meta: the executor acts on the action; the module only validates it. */
export const meta: Module = {
  name: 'meta',
  local: true,
  noTemplate: true,
  spec: {
    params: {
      _raw_params: {
        type: 'str',
        support: 'partial',
        note: 'refresh_inventory fails the run',
        required: true,
        choices: [
          'flush_handlers',
          'noop',
          'end_play',
          'end_host',
          'clear_host_errors',
          'clear_facts',
          'refresh_inventory',
          'reset_connection',
          'end_batch',
        ],
      },
    },
    freeForm: '_raw_params',
  },
  async run() {
    return { changed: false };
  },
};

export const pause: Module = {
  name: 'pause',
  local: true,
  spec: {
    params: {
      seconds: { type: 'int', support: 'full' },
      minutes: { type: 'int', support: 'full' },
      prompt: { type: 'str', support: 'partial', note: 'only with seconds/minutes: orch never waits for a keypress' },
    },
  },
  async run(_ctx, p) {
    const ms = (Number(p.seconds ?? 0) + Number(p.minutes ?? 0) * 60) * 1000;
    if (ms <= 0)
      throw new ModuleFailure('pause without seconds/minutes would wait for a keypress; orch never prompts mid-run');
    await new Promise((r) => setTimeout(r, ms));
    return { changed: false, delta: ms / 1000 };
  },
};

/** Proves that a new SSH login to the host works (the ssh-hardening role's guard after a reload). */
export const connectionCheck: Module = {
  name: 'connection_check',
  local: true,
  spec: {
    params: {
      retries: { type: 'int', support: 'full', default: 3 },
      delay: { type: 'int', support: 'full', default: 1 },
    },
  },
  async run(ctx, p) {
    let last: unknown;
    for (let i = 0; i < Number(p.retries); i++) {
      try {
        await ctx.probeConnection();
        return { changed: false, msg: 'a fresh connection works' };
      } catch (err) {
        last = err;
        await new Promise((r) => setTimeout(r, Number(p.delay) * 1000));
      }
    }
    return {
      changed: false,
      failed: true,
      msg: `a fresh connection failed: ${last instanceof Error ? last.message : String(last)}`,
    };
  },
};
