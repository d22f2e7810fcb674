import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import nunjucks from 'nunjucks';
import { prepare, type JinjaOptions, type TagRewriter } from './whitespace.js';

/**
 * `{% include %}`, `{% import %}` and `{% extends %}` find their files on the template's search path, as
 * Ansible's template module sets it (each directory and its `templates/`), and are read with the same
 * Jinja settings as the template that includes them (an included file's last newline is dropped, as in
 * Jinja; Ansible puts trailing newlines back only on the outer template).
 */
export interface IncludeContext {
  paths: readonly string[];
  options: JinjaOptions;
}

export class IncludeLoader extends nunjucks.Loader {
  current: IncludeContext | undefined;
  readonly cache: Record<string, unknown> = {};

  constructor(private readonly rewrite: TagRewriter) {
    super();
  }

  getSource(name: string): nunjucks.LoaderSource | null {
    const ctx = this.current;
    if (!ctx) return null;
    const candidates = isAbsolute(name)
      ? [name]
      : ctx.paths.flatMap((p) => [join(p, 'templates', name), join(p, name)]);
    const path = candidates.find((p) => existsSync(p));
    if (!path) return null;
    const { source } = prepare(readFileSync(path, 'utf8'), ctx.options, this.rewrite);
    return { src: source, path, noCache: true };
  }
}
