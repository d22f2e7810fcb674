import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { templateVars } from '../template/template-vars.js';
import { ANSIBLE_DEFAULTS, type JinjaOptions } from '../template/whitespace.js';
import { withPathInfo } from './path-info.js';
import {
  applyContent,
  contentParams,
  describeContent,
  planContent,
  queryContent,
  type ContentChange,
  type ContentState,
} from './content.js';
import { coerceParam, type Params } from './spec.js';
import { defineStateModule, ModuleFailure } from './types.js';

const NEWLINES: Record<string, string> = {
  '\n': '\n',
  '\r': '\r',
  '\r\n': '\r\n',
  '\\n': '\n',
  '\\r': '\r',
  '\\r\\n': '\r\n',
};

/** The Jinja environment the template module asks for (action/template.py): trim_blocks on unless told. */
function jinjaOptions(p: Params): JinjaOptions {
  const nl = NEWLINES[String(p.newline_sequence)];
  if (nl === undefined) throw new ModuleFailure('newline_sequence needs to be one of: \n, \r or \r\n');
  const str = (k: string, dflt: string) => (typeof p[k] === 'string' && p[k] !== '' ? (p[k] as string) : dflt);
  const d = ANSIBLE_DEFAULTS;
  return {
    ...d,
    trimBlocks: p.trim_blocks !== false,
    lstripBlocks: p.lstrip_blocks === true,
    newlineSequence: nl,
    blockStart: str('block_start_string', d.blockStart),
    blockEnd: str('block_end_string', d.blockEnd),
    variableStart: str('variable_start_string', d.variableStart),
    variableEnd: str('variable_end_string', d.variableEnd),
    commentStart: str('comment_start_string', d.commentStart),
    commentEnd: str('comment_end_string', d.commentEnd),
  };
}

/** output_encoding: the encodings Node writes (Ansible takes any Python codec; others are refused, not ignored). */
function encode(text: string, encoding: string): Buffer {
  const name = encoding.toLowerCase().replace(/[-_]/g, '');
  const node: Record<string, BufferEncoding> = {
    utf8: 'utf8',
    latin1: 'latin1',
    iso88591: 'latin1',
    ascii: 'ascii',
    utf16le: 'utf16le',
    utf16: 'utf16le',
  };
  const enc = node[name];
  if (!enc)
    throw new ModuleFailure(
      `output_encoding '${encoding}' is not supported by orch (utf-8, latin-1, ascii, utf-16-le)`,
    );
  if (enc === 'ascii' && /[^\x00-\x7f]/.test(text))
    throw new ModuleFailure("UnicodeEncodeError: 'ascii' codec can't encode the template's non-ASCII characters");
  if (enc === 'latin1' && /[^\x00-\xff]/.test(text))
    throw new ModuleFailure("UnicodeEncodeError: 'latin-1' codec can't encode the template's characters beyond U+00FF");
  // Python's utf-16 codec writes a BOM first; utf-16-le does not.
  return name === 'utf16'
    ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
    : Buffer.from(text, enc);
}

type TemplateState = ContentState & { mode?: string };

/** `mode: preserve` is the template file's own mode ('0%03o' of its permission bits), as Ansible reads it. */
function resolveMode(mode: unknown, src: string): string | undefined {
  if (mode === undefined || mode === null) return undefined;
  if (mode === 'preserve') return `0${(statSync(src).mode & 0o7777).toString(8).padStart(3, '0')}`;
  return coerceParam('mode', 'mode', mode) as string;
}
const withMode = (p: Params, s: TemplateState): Params => (s.mode === undefined ? p : { ...p, mode: s.mode });

export const template = withPathInfo(
  defineStateModule<TemplateState, ContentChange>({
    name: 'template',
    spec: {
      params: {
        ...contentParams,
        src: { type: 'path', support: 'full', required: true },
        newline_sequence: { type: 'str', support: 'full', default: '\n' },
        trim_blocks: { type: 'bool', support: 'full', default: true },
        lstrip_blocks: { type: 'bool', support: 'full', default: false },
        block_start_string: { type: 'str', support: 'full' },
        block_end_string: { type: 'str', support: 'full' },
        variable_start_string: { type: 'str', support: 'full' },
        variable_end_string: { type: 'str', support: 'full' },
        comment_start_string: { type: 'str', support: 'full' },
        comment_end_string: { type: 'str', support: 'full' },
        output_encoding: {
          type: 'str',
          support: 'partial',
          note: 'utf-8, latin-1, ascii and utf-16',
          default: 'utf-8',
        },
        // a mode, or 'preserve' (the template file's mode): checked in query, where the file is known
        mode: { type: 'raw', support: 'full' },
      },
    },
    async query(ctx, p) {
      const src = String(p.src);
      const found = ctx.findLocal('templates', src);
      if (!found)
        throw new ModuleFailure(`could not find template '${src}' in the role's or playbook's templates/ directory`);
      // Ansible's search path for includes: the play's and role's paths, then the template's own directory.
      const searchPath = [...ctx.vars.lookupPaths, dirname(found)];
      const text = ctx.render(readFileSync(found, 'utf8'), {
        jinja: jinjaOptions(p),
        over: templateVars(src, found, String(p.dest)),
        searchPath,
      });
      const mode = resolveMode(p.mode, found);
      return {
        ...(await queryContent(ctx, p, encode(text, String(p.output_encoding)), src.replace(/\.j2$/, ''))),
        mode,
      };
    },
    plan: (p, s) => planContent(withMode(p, s), s),
    apply: (ctx, p, c, s) => applyContent(ctx, withMode(p, s), c, s),
    describe: (_p, s) => describeContent(s),
  }),
);
