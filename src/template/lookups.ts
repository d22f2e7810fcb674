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

type Renderer = (text: string, scope: VarScope | undefined, over: Record<string, unknown>, searchPath: readonly string[], convertData: boolean) => unknown;
let templateRenderer: Renderer | undefined;
/** env.ts hands its renderer over here (a direct import would be circular). */
export function setLookupRenderer(r: Renderer): void {
  templateRenderer = r;
}

export function lookupPlugins(scope: VarScope | undefined, name: string, args: unknown[], asList: boolean): unknown {
  const paths = scope?.lookupPaths ?? [];
  const isKw = (a: unknown) => Boolean(a && typeof a === 'object' && !Array.isArray(a) && (a as { __keywords?: boolean }).__keywords);
  const terms = flatTerms(args.filter((a) => !isKw(a)));
  const kw = { ...(args.find(isKw) as Record<string, unknown> | undefined) };
  delete kw.__keywords;
  // For the lookups whose options orch reads, an option it would ignore is refused instead.
  const known: Record<string, string[]> = { file: ['lstrip', 'rstrip'], template: ['template_vars', 'convert_data'] };
  const unknownKw = Object.keys(kw).filter((k) => k !== 'wantlist' && !(known[name] ?? [k]).includes(k));
  if (unknownKw.length) throw new TemplateError(`lookup('${name}'): option ${unknownKw.join(', ')} is not supported by orch`);
  const wantList = asList || kw.wantlist === true;
  const results: unknown[] = [];
  switch (name) {
    case 'file':
      for (const t of terms) {
        const p = findLocalFile(String(t), paths);
        if (!p) throw new TemplateError(`lookup('file'): could not find '${String(t)}' (searched ${paths.join(', ') || 'nowhere'})`);
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
        if (!templateRenderer) throw new TemplateError('template lookup used before the template engine started');
        // As the module renders (trim_blocks, trailing newlines), with template_destpath None and convert_data on.
        const over = { ...templateVars(String(t), p, null), ...(kw.template_vars as Record<string, unknown> | undefined) };
        results.push(templateRenderer(readFileSync(p, 'utf8'), scope, over, [dirname(p), ...paths], kw.convert_data !== false));
      }
      break;
    case 'first_found': {
      const candidates = terms.flatMap((t) =>
        t && typeof t === 'object' && 'files' in (t as object) ? flatTerms([(t as { files: unknown }).files]) : [t],
      );
      const hit = candidates.map((c) => findLocalFile(String(c), paths)).find((p) => p !== undefined);
      if (!hit) throw new TemplateError(`lookup('first_found'): none of ${candidates.map(String).join(', ')} was found`);
      results.push(hit);
      break;
    }
    case 'items':
    case 'list':
      results.push(...terms);
      break;
    default:
      throw new TemplateError(`lookup plugin '${name}' is not supported by orch`, { hint: 'Supported: file, env, pipe, template, first_found, items.' });
  }
  if (wantList) return results;
  return results.length === 1 ? results[0] : results.join(',');
}
