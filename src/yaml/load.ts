import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  LineCounter,
  parseDocument,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Document,
  type Node as YamlNode,
  type SchemaOptions,
} from 'yaml';
import { ParseError, type Position } from '../core/errors.js';
import { noteLoadWarning } from '../core/load-warnings.js';
import { PASSWORD_VARS, type Secrets } from '../core/secrets.js';
import { isVaulted, vaultDecrypt } from '../vault/format.js';
import { indentQuotedContinuations } from './lenient.js';
import { vaultPassword } from '../vault/password.js';

/** A `!vault |` scalar as read; decrypted (and registered as a secret) when converted, knowing its line. */
class VaultedScalar {
  constructor(readonly text: string) {}
}

const VAULT_TAG = { tag: '!vault', resolve: (str: string) => new VaultedScalar(str) };

/** Where a mapping came from, and the line of each of its keys: for errors that point at the right line. */
export interface MapPosition extends Position {
  keyLines: Map<string, number>;
}

const positions = new WeakMap<object, MapPosition>();

export function positionOf(value: unknown): MapPosition | undefined {
  return typeof value === 'object' && value !== null ? positions.get(value) : undefined;
}

/** A mapping built from another (some keys moved away) keeps the original's position for errors. */
export function withPositionOf<T extends object>(copy: T, original: object): T {
  const pos = positions.get(original);
  if (pos) positions.set(copy, pos);
  return copy;
}

/** Position of one key of a mapping (falls back to the mapping's own position). */
export function keyPosition(map: unknown, key: string): Position | undefined {
  const pos = positionOf(map);
  if (!pos) return undefined;
  return { file: pos.file, line: pos.keyLines.get(key) ?? pos.line };
}

function scalarKey(node: YamlNode & { value: unknown; source?: string }): string {
  if (typeof node.value === 'symbol') return '<<';
  if (typeof node.value === 'boolean' && typeof node.source === 'string' && /^[yYnN]$/.test(node.source))
    return node.source;
  return String(node.value);
}

/**
 * Values copied through aliases in one file, at most: a "billion laughs" (aliases of aliases of lists)
 * expands exponentially (the yaml library's own guard, `maxAliasCount`, is in toJS, which orch does not
 * use). Real files merge a few defaults a few hundred times.
 */
export const MAX_ALIAS_NODES = 100_000;

interface AliasBudget {
  /** inside how many alias expansions the current node is */
  depth: number;
  copied: number;
  /** line of the outermost alias being expanded: where the error points */
  line?: number;
}

function convert(
  node: YamlNode | null | undefined,
  doc: Document,
  file: string,
  lc: LineCounter,
  secrets: Secrets,
  depth = 0,
  aliases: AliasBudget = { depth: 0, copied: 0 },
): unknown {
  if (depth > 200) throw new ParseError('YAML nests too deeply (over 200 levels)', { file });
  if (node === null || node === undefined) return null;
  if (aliases.depth > 0 && ++aliases.copied > MAX_ALIAS_NODES) {
    throw new ParseError(
      `YAML aliases expand to over ${MAX_ALIAS_NODES} values (an alias bomb?)`,
      { file, line: aliases.line },
      'Anchors (&name) and aliases (*name) that refer to each other multiply: write the data out, or alias less.',
    );
  }
  if (isAlias(node)) {
    if (aliases.depth === 0) aliases.line = lc.linePos(node.range?.[0] ?? 0).line;
    aliases.depth++;
    try {
      return convert(node.resolve(doc) as YamlNode | undefined, doc, file, lc, secrets, depth + 1, aliases);
    } finally {
      aliases.depth--;
    }
  }
  if (isScalar(node)) {
    const v = node.value;
    if (v instanceof VaultedScalar) {
      const where = `${file}:${lc.linePos(node.range?.[0] ?? 0).line}`;
      const plain = vaultDecrypt(v.text, vaultPassword(secrets, where), where);
      secrets.register(plain);
      return plain;
    }
    // PyYAML (Ansible's reader) keeps y/n as strings; only yes/no/on/off/true/false are booleans.
    if (typeof v === 'boolean' && node.type === 'PLAIN' && /^[yYnN]$/.test(node.source ?? '')) return node.source;
    return typeof v === 'bigint' ? v.toString() : v;
  }
  const at = lc.linePos(node.range?.[0] ?? 0);
  if (isSeq(node))
    return node.items.map((item) => convert(item as YamlNode, doc, file, lc, secrets, depth + 1, aliases));
  if (isMap(node)) {
    // `msg: {{ x }}` is YAML for a mapping whose key is a mapping: Ansible's classic missing-quotes mistake.
    if (node.flow && node.items.some((p) => isMap(p.key))) {
      throw new ParseError(
        'a value starting with "{{" must be quoted',
        { file, line: at.line, col: at.col },
        'Write it as "{{ ... }}" (in quotes): unquoted, YAML reads {{ }} as a mapping.',
      );
    }
    const out: Record<string, unknown> = {};
    const keyLines = new Map<string, number>();
    const set = (key: string, value: unknown) =>
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    for (const pair of node.items) {
      const keyNode = pair.key as YamlNode | null;
      const key =
        keyNode && isScalar(keyNode)
          ? scalarKey(keyNode)
          : String(convert(keyNode, doc, file, lc, secrets, depth + 1, aliases));
      if (key === '<<') {
        // YAML 1.1 merge key: values of the referenced mapping(s) that are not set here.
        const merged = convert(pair.value as YamlNode, doc, file, lc, secrets, depth + 1, aliases);
        for (const src of Array.isArray(merged) ? merged : [merged]) {
          if (src && typeof src === 'object')
            for (const [k, v] of Object.entries(src)) if (!Object.hasOwn(out, k)) set(k, v);
        }
        continue;
      }
      const kr = keyNode?.range?.[0];
      if (keyLines.has(key)) {
        const line = kr === undefined ? at.line : lc.linePos(kr).line;
        noteLoadWarning(
          `While constructing a mapping from ${file}, line ${at.line}, column ${at.col}, found a duplicate dict key (${key}) at line ${line}. Using last defined value only.`,
        );
      }
      // defineProperty: a key named __proto__ is data, never the object's prototype
      set(key, convert(pair.value as YamlNode, doc, file, lc, secrets, depth + 1, aliases));
      keyLines.set(key, kr === undefined ? at.line : lc.linePos(kr).line);
      // a password variable written anywhere (inventory, group_vars, role vars, play vars): a secret from now on
      if (PASSWORD_VARS.has(key)) secrets.registerPasswordVars(out);
    }
    positions.set(out, { file, line: at.line, col: at.col, keyLines });
    return out;
  }
  return null;
}

type Tags = Exclude<NonNullable<SchemaOptions['customTags']>, (...a: never[]) => unknown>;

/**
 * Floats as PyYAML resolves them: a dot is required and an exponent has a sign (`1.5e+3`); the yaml
 * library's 1.1 schema also took `e1` (a register name) and `1e3` for floats, which PyYAML reads as strings.
 */
const PY_FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)$/;
const PY_FLOAT_EXP = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)[eE][-+][0-9]+$/;
function pyYamlFloat(t: Tags[number]): Tags[number] {
  if (
    typeof t === 'string' ||
    t.tag !== 'tag:yaml.org,2002:float' ||
    !('test' in t) ||
    !t.test ||
    /inf|nan/i.test(t.test.source)
  )
    return t;
  return { ...t, test: t.format === 'EXP' ? PY_FLOAT_EXP : PY_FLOAT };
}

function parseOptions(lineCounter: LineCounter) {
  // uniqueKeys off: PyYAML keeps the last of duplicate keys (Ansible warns); convert() does the same.
  return {
    version: '1.1' as const,
    lineCounter,
    uniqueKeys: false,
    prettyErrors: false,
    merge: true,
    customTags: (tags: Tags) => [...tags.map(pyYamlFloat), VAULT_TAG],
  };
}

/**
 * Parse YAML text with Ansible's reading (YAML 1.1: `yes` is true, `0644` is octal), keeping positions.
 * secrets: the vault password for `!vault` values, and where their plaintext and password variables are registered.
 */
export function parseYaml(text: string, file: string, secrets: Secrets): unknown {
  if (text.includes('\t')) {
    const lines = text.split('\n');
    const idx = lines.findIndex((l) => /^\s*\t/.test(l));
    if (idx >= 0)
      throw new ParseError(
        'tab character used for indentation',
        { file, line: idx + 1 },
        'YAML indents with spaces only: replace the tab with spaces.',
      );
  }
  let lc = new LineCounter();
  let doc = parseDocument(text, parseOptions(lc));
  if (doc.errors.length > 0) {
    // What PyYAML accepts and the yaml library does not (see lenient.ts); the first error stands otherwise.
    const lenientLc = new LineCounter();
    const lenient = parseDocument(indentQuotedContinuations(text), parseOptions(lenientLc));
    if (lenient.errors.length === 0) [doc, lc] = [lenient, lenientLc];
  }
  const first = doc.errors[0];
  if (first) {
    const at = lc.linePos(first.pos[0]);
    const msg = first.message.split('\n')[0] ?? first.message;
    const hint =
      'Check the indentation and quoting around this line (a value with `: ` or starting with `{{` must be quoted).';
    throw new ParseError(`YAML syntax error: ${msg}`, { file, line: at.line, col: at.col }, hint);
  }
  return convert(doc.contents as YamlNode, doc, file, lc, secrets);
}

export function loadYamlFile(file: string, secrets: Secrets): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ParseError(`cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file });
  }
  if (isVaulted(text)) {
    // A whole file encrypted with ansible-vault: every value in it is a secret.
    const data = parseYaml(vaultDecrypt(text, vaultPassword(secrets, file), file), file, secrets);
    secrets.register(data);
    return data;
  }
  return parseYaml(text, file, secrets);
}

/**
 * Variables from a vars file, or from every YAML/JSON file of a vars directory (merged in name order):
 * group_vars/NAME, host_vars/NAME, a role's defaults/main and vars/main all read this way.
 */
export function loadVarsPath(path: string, secrets: Secrets): Record<string, unknown> {
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .sort()
        .filter((f) => /\.(ya?ml|json)$/.test(f) || !f.includes('.'))
        .map((f) => join(path, f))
    : [path];
  const out: Record<string, unknown> = {};
  for (const f of files) {
    const data = loadYamlFile(f, secrets);
    if (data === null) continue;
    if (typeof data !== 'object' || Array.isArray(data))
      throw new ParseError('a vars file must be a mapping of variable names to values', { file: f, line: 1 });
    Object.assign(out, data);
  }
  return out;
}
