import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { TemplateError } from '../core/errors.js';
import type { VarScope } from './scope.js';
import { templateVars } from './template-vars.js';

/** Lookup plugins run on the control machine, as in Ansible. */

export function findLocalFile(name: string, paths: readonly string[]): string | undefined {
  if (isAbsolute(name)) return existsSync(name) ? name : undefined;
  for (const dir of paths) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function flatTerms(args: unknown[]): unknown[] {
  return args.flatMap((a) => (Array.isArray(a) ? a : [a]));
}

/**
 * Ansible's first_found: terms are file names, or {files, paths, skip, errors} mappings (files split on , and ;,
 * paths on , : and ;). The first file found in the search paths; [] when `skip` (or errors=ignore) and none is.
 */
export function firstFound(terms: readonly unknown[], searchPaths: readonly string[]): string[] {
  const candidates: string[] = [];
  let skip = false;
  for (const t of terms) {
    if (t && typeof t === 'object' && !Array.isArray(t)) {
      const d = t as { files?: unknown; paths?: unknown; skip?: unknown; errors?: unknown };
      const split = (v: unknown, sep: RegExp) =>
        flatTerms([v ?? []])
          .flatMap((x) => String(x).split(sep))
          .map((x) => x.trim())
          .filter(Boolean);
      const files = split(d.files, /[,;]/);
      const dirs = split(d.paths, /[,:;]/);
      skip ||= d.skip === true || String(d.skip).toLowerCase() === 'true' || d.errors === 'ignore';
      for (const f of files) candidates.push(...(dirs.length > 0 ? dirs.map((dir) => join(dir, f)) : [f]));
    } else candidates.push(String(t));
  }
  const hit = candidates.map((c) => findLocalFile(c, searchPaths)).find((p) => p !== undefined);
  if (hit) return [hit];
  if (skip) return [];
  throw new TemplateError(
    `No file was found when using first_found (looked for ${candidates.join(', ') || 'nothing'}).`,
    { hint: "Use skip: true (or errors='ignore') to skip the task when no file is found." },
  );
}

/** How lookup('template') renders a file: env.ts's renderer, given to each call (importing it would be circular). */
export type LookupRenderer = (
  text: string,
  scope: VarScope | undefined,
  over: Record<string, unknown>,
  searchPath: readonly string[],
  convertData: boolean,
) => unknown;

/** The with_X loops that are lookups too (sequence, dict, fileglob...): executor/loop.ts, through the scope. */
export type LoopLookup = (kind: string, terms: unknown, scope: VarScope) => unknown[] | undefined;

export function lookupPlugins(
  scope: VarScope | undefined,
  name: string,
  args: unknown[],
  asList: boolean,
  renderTemplate: LookupRenderer,
): unknown {
  const paths = scope?.lookupPaths ?? [];
  const isKw = (a: unknown) =>
    Boolean(a && typeof a === 'object' && !Array.isArray(a) && (a as { __keywords?: boolean }).__keywords);
  const terms = flatTerms(args.filter((a) => !isKw(a)));
  const kw = { ...(args.find(isKw) as Record<string, unknown> | undefined) };
  delete kw.__keywords;
  // For the lookups whose options orch reads, an option it would ignore is refused instead.
  const known: Record<string, string[]> = {
    file: ['lstrip', 'rstrip'],
    template: ['template_vars', 'convert_data'],
    vars: ['default'],
  };
  const unknownKw = Object.keys(kw).filter((k) => k !== 'wantlist' && !(known[name] ?? [k]).includes(k));
  if (unknownKw.length)
    throw new TemplateError(`lookup('${name}'): option ${unknownKw.join(', ')} is not supported by orch`);
  const wantList = asList || kw.wantlist === true;
  const results: unknown[] = [];
  switch (name) {
    case 'file':
      for (const t of terms) {
        const p = findLocalFile(String(t), paths);
        if (!p)
          throw new TemplateError(
            `lookup('file'): could not find '${String(t)}' (searched ${paths.join(', ') || 'nowhere'})`,
          );
        // Ansible's file lookup: str.rstrip() by default (every trailing blank, not one newline), lstrip on request.
        let text = readFileSync(p, 'utf8');
        if (kw.lstrip === true) text = text.trimStart();
        if (kw.rstrip !== false) text = text.trimEnd();
        results.push(text);
      }
      break;
    case 'env':
      for (const t of terms) results.push(process.env[String(t)] ?? '');
      break;
    case 'pipe':
      for (const t of terms) results.push(execFileSync('/bin/sh', ['-c', String(t)], { encoding: 'utf8' }).trimEnd());
      break;
    case 'template':
      for (const t of terms) {
        const p = findLocalFile(String(t), paths);
        if (!p) throw new TemplateError(`lookup('template'): could not find '${String(t)}'`);
        // As the module renders (trim_blocks, trailing newlines), with template_destpath None and convert_data on.
        const over = {
          ...templateVars(String(t), p, null),
          ...(kw.template_vars as Record<string, unknown> | undefined),
        };
        results.push(
          renderTemplate(readFileSync(p, 'utf8'), scope, over, [dirname(p), ...paths], kw.convert_data !== false),
        );
      }
      break;
    case 'first_found':
      results.push(...firstFound(terms, paths));
      break;
    case 'varnames':
      // names of the variables defined for this task, matching Python regexps (re.search)
      for (const t of terms) {
        let re: RegExp;
        try {
          re = new RegExp(String(t).replace(/\(\?P<(\w+)>/g, '(?<$1>'));
        } catch (err) {
          throw new TemplateError(
            `lookup('varnames'): bad regular expression '${String(t)}': ${(err as Error).message}`,
          );
        }
        results.push(...(scope?.names() ?? []).filter((n) => re.test(n)));
      }
      break;
    case 'items':
    case 'list':
      results.push(...terms);
      break;
    case 'vars':
      for (const t of terms) {
        const v = scope?.has(String(t)) ? scope.get(String(t)) : kw.default;
        if (v === undefined) throw new TemplateError(`No variable found with this name: ${String(t)}`);
        results.push(v);
      }
      break;
    case 'lines':
      for (const t of terms)
        results.push(
          ...execFileSync('/bin/sh', ['-c', String(t)], { encoding: 'utf8' })
            .split('\n')
            .filter((l, i, a) => !(i === a.length - 1 && l === '')),
        );
      break;
    default: {
      // the lookups behind with_dict, with_sequence, with_fileglob, with_indexed_items..., as those loops read them
      const items = [
        'dict',
        'sequence',
        'fileglob',
        'indexed_items',
        'together',
        'nested',
        'subelements',
        'flattened',
      ].includes(name)
        ? scope?.context.loopLookup?.(name, name === 'dict' || name === 'sequence' ? terms[0] : terms, scope)
        : undefined;
      if (items) {
        results.push(...items);
        break;
      }
      throw new TemplateError(`lookup plugin '${name}' is not supported by orch`, {
        hint: 'Supported: file, env, pipe, template, first_found, items, list, varnames, vars, lines, dict, sequence, fileglob, indexed_items, together, nested, subelements, flattened.',
      });
    }
  }
  // the list lookup gives its list back whether asked as lookup() or query() (as Ansible 2.14 does)
  if (wantList || name === 'list') return results;
  return results.length === 1 ? results[0] : results.join(',');
}
