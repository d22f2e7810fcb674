import { findModule, modules } from '../modules/registry.js';
import type { ModuleSpec, ParamSpec, ParamType } from '../modules/spec.js';
import {
  ANSIBLE_BLOCK_KEYWORDS,
  ANSIBLE_MODULES,
  ANSIBLE_PLAY_KEYWORDS,
  ANSIBLE_REDIRECTS,
  ANSIBLE_TASK_KEYWORDS,
} from './ansible-names.js';

/**
 * A JSON Schema (draft-07, what YAML language servers read) for playbooks, task files and handler files,
 * generated from the module specs and keyword tables, never written by hand. One document covers every kind:
 * a file is a list whose entries are plays (they have `hosts` or `import_playbook`), blocks or tasks.
 * Values may always be templates ("{{ … }}"), so a typed parameter also accepts a string.
 */
export type JsonSchema = { [key: string]: unknown };

const TEMPLATE: JsonSchema = { type: 'string', pattern: '\\{\\{' };
const ANY: JsonSchema = {};
const BOOL: JsonSchema = { type: ['boolean', 'string'] };
const INT: JsonSchema = { type: ['integer', 'string'] };
const LIST_OR_STRING: JsonSchema = { type: ['array', 'string'] };
const TASKS_REF: JsonSchema = { type: 'array', items: { $ref: '#/definitions/taskOrBlock' } };

/** Types of the keywords an editor should check; the others take any value. */
const KEYWORD_TYPES: Record<string, JsonSchema> = {
  name: { type: 'string' },
  hosts: LIST_OR_STRING,
  when: { type: ['string', 'boolean', 'array'] },
  changed_when: { type: ['string', 'boolean', 'array'] },
  failed_when: { type: ['string', 'boolean', 'array'] },
  until: { type: ['string', 'boolean', 'array'] },
  loop: LIST_OR_STRING,
  register: { type: 'string' },
  notify: LIST_OR_STRING,
  listen: LIST_OR_STRING,
  tags: { type: ['array', 'string', 'integer'] },
  vars: { type: ['object', 'null'] },
  vars_files: LIST_OR_STRING,
  environment: { type: ['object', 'string', 'array'] },
  become: BOOL,
  gather_facts: BOOL,
  ignore_errors: BOOL,
  ignore_unreachable: BOOL,
  no_log: BOOL,
  run_once: BOOL,
  check_mode: BOOL,
  diff: BOOL,
  any_errors_fatal: BOOL,
  force_handlers: BOOL,
  delegate_facts: BOOL,
  retries: INT,
  delay: { type: ['number', 'string'] }, // Ansible truncates a fractional delay
  throttle: INT,
  timeout: INT,
  port: INT,
  serial: { type: ['integer', 'string', 'array'] },
  max_fail_percentage: { type: ['integer', 'number', 'string'] },
  loop_control: {
    type: 'object',
    properties: Object.fromEntries(
      ['loop_var', 'index_var', 'label', 'pause', 'extended', 'extended_allitems'].map((k) => [k, ANY]),
    ),
    additionalProperties: false,
  },
  block: TASKS_REF,
  rescue: TASKS_REF,
  always: TASKS_REF,
  pre_tasks: TASKS_REF,
  tasks: TASKS_REF,
  post_tasks: TASKS_REF,
  handlers: TASKS_REF,
  roles: { type: 'array', items: { type: ['string', 'object'] } },
};

function keywordProperties(names: readonly string[]): Record<string, JsonSchema> {
  return Object.fromEntries(names.filter((k) => /^[a-z_]+$/.test(k)).map((k) => [k, KEYWORD_TYPES[k] ?? ANY]));
}

function typed(t: ParamType, elements?: ParamType): JsonSchema {
  switch (t) {
    case 'bool':
      return BOOL;
    case 'int':
      return INT;
    case 'float':
      return { type: ['number', 'string'] };
    case 'list':
      return {
        anyOf: [
          { type: 'array', ...(elements && elements !== 'raw' ? { items: typed(elements) } : {}) },
          { type: 'string' },
        ],
      };
    case 'dict':
      return { type: ['object', 'string'] };
    case 'mode':
      return { type: ['string', 'integer'] };
    case 'str':
    case 'path':
      return { type: ['string', 'number', 'boolean'] };
    case 'raw':
      return ANY;
  }
}

/** A parameter's values; null is always accepted (Ansible reads it as the parameter left out). */
function paramSchema(p: ParamSpec): JsonSchema {
  const base = {
    anyOf: [p.choices ? { enum: [...p.choices] } : typed(p.type, p.elements), TEMPLATE, { type: 'null' }],
  };
  const note =
    p.support === 'full'
      ? ''
      : ` orch: ${p.support === 'none' ? 'not implemented (fails when a host reaches it)' : 'partly implemented'}${p.note ? `: ${p.note}` : ''}.`;
  const dflt = p.default !== undefined ? ` Default: ${JSON.stringify(p.default)}.` : '';
  const description = `${p.type}${p.required ? ', required' : ''}.${dflt}${note}`;
  return { ...base, description };
}

/**
 * Arguments of an orch module: a k=v string, or a mapping of its declared parameters (aliases included) and
 * of the parameters Ansible has for it that orch does not declare (they fail when a host reaches the task).
 */
function orchModuleArgs(spec: ModuleSpec, ansibleParams = ''): JsonSchema {
  if (spec.anyParams) return { type: ['object', 'string', 'null'] };
  const props: Record<string, JsonSchema> = {};
  for (const n of ansibleParams.split(' '))
    if (n && n !== 'free_form' && n !== 'free-form')
      props[n] = { description: 'orch: not implemented (fails when a host reaches it)' };
  for (const [name, p] of Object.entries(spec.params)) {
    const s = paramSchema(p);
    props[name] = s;
    for (const a of p.aliases ?? []) props[a] = { ...s, description: `alias of ${name}` };
  }
  return {
    anyOf: [{ type: 'string' }, { type: 'null' }, { type: 'object', properties: props, additionalProperties: false }],
  };
}

/** Arguments of a module Ansible has and orch lacks: its parameter names, untyped. */
function ansibleModuleArgs(names: string): JsonSchema {
  const props = Object.fromEntries(
    names
      .split(' ')
      .filter((n) => n && n !== 'free-form' && n !== 'free_form')
      .map((n) => [n, ANY]),
  );
  return {
    description: 'orch does not implement this module: a task using it fails when a host reaches it',
    anyOf: [{ type: 'string' }, { type: 'null' }, { type: 'object', properties: props, additionalProperties: false }],
  };
}

/**
 * Every name a task may use for a module, as a reference to its argument schema (orch's where orch resolves
 * the name, Ansible's parameter names otherwise); the schemas themselves go to `defs` once each.
 */
function moduleProperties(defs: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  const ref = (key: string, schema: () => JsonSchema): JsonSchema => {
    defs[key] ??= schema();
    return { $ref: `#/definitions/args/${key}` };
  };
  for (const [fqcn, params] of Object.entries(ANSIBLE_MODULES)) {
    const m = findModule(fqcn);
    out[fqcn] = m ? ref(m.name, () => orchModuleArgs(m.spec, params)) : ref(fqcn, () => ansibleModuleArgs(params));
    if (fqcn.startsWith('ansible.builtin.'))
      out[fqcn.replace('ansible.builtin.', '')] = out[fqcn.replace('builtin', 'legacy')] = out[fqcn];
  }
  for (const [short, fqcn] of Object.entries(ANSIBLE_REDIRECTS)) if (out[fqcn]) out[short] = out[fqcn] as JsonSchema;
  for (const m of modules.values()) out[m.name] = ref(m.name, () => orchModuleArgs(m.spec));
  for (const name of Object.keys(out)) {
    const m = findModule(name);
    if (m) out[name] = ref(m.name, () => orchModuleArgs(m.spec));
  }
  return out;
}

export function playbookSchema(): JsonSchema {
  const taskKeywords = keywordProperties([...ANSIBLE_TASK_KEYWORDS, 'listen']);
  // orch's per-block serial: a block (or a task, run as a one-task block) may take serial and max_fail_percentage
  const serialKeywords = keywordProperties(['serial', 'max_fail_percentage']);

  const args: Record<string, JsonSchema> = {};
  const task: JsonSchema = {
    type: 'object',
    properties: { ...moduleProperties(args), ...taskKeywords, ...serialKeywords },
    // with_<lookup> (also a collection's lookup), and modules by an old collection path (a.b.packaging.os.zypper)
    patternProperties: { '^with_[a-z_.]+$': ANY, '^[a-z_]+\\.[a-z_]+\\.([a-z_]+\\.)+[a-z_0-9]+$': ANY },
    additionalProperties: false,
  };
  const block: JsonSchema = {
    type: 'object',
    required: ['block'],
    properties: { ...keywordProperties(ANSIBLE_BLOCK_KEYWORDS), ...serialKeywords },
    additionalProperties: false,
  };
  const play: JsonSchema = {
    type: 'object',
    required: ['hosts'],
    properties: keywordProperties(ANSIBLE_PLAY_KEYWORDS),
    additionalProperties: false,
  };
  const importPlaybook: JsonSchema = {
    type: 'object',
    properties: {
      import_playbook: { type: 'string' },
      'ansible.builtin.import_playbook': { type: 'string' },
      name: { type: 'string' },
      vars: { type: 'object' },
      tags: ANY,
      when: ANY,
    },
    additionalProperties: false,
  };
  const isPlay = {
    anyOf: [
      { required: ['hosts'] },
      { required: ['import_playbook'] },
      { required: ['ansible.builtin.import_playbook'] },
    ],
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://orch.invalid/schema/orch.json',
    title: 'orch playbook, task file or handler file (Ansible syntax)',
    type: 'array',
    items: { $ref: '#/definitions/entry' },
    definitions: {
      entry: { if: isPlay, then: { $ref: '#/definitions/playOrImport' }, else: { $ref: '#/definitions/taskOrBlock' } },
      playOrImport: {
        if: { required: ['hosts'] },
        then: { $ref: '#/definitions/play' },
        else: { $ref: '#/definitions/importPlaybook' },
      },
      taskOrBlock: {
        if: { required: ['block'] },
        then: { $ref: '#/definitions/block' },
        else: { $ref: '#/definitions/task' },
      },
      play,
      importPlaybook,
      block,
      task,
      args,
    },
  };
}
