import { sh } from '../transport/quote.js';
import { commandFailed, ModuleFailure, type Module } from './types.js';
import { noControlChars } from './validate.js';

const MARK = '__orch_uri_status__';

/** HTTP from the target host (as Ansible's uri), with curl there. */
export const uri: Module = {
  name: 'uri',
  spec: {
    params: {
      url: { type: 'str', support: 'full', required: true },
      method: { type: 'str', support: 'full', default: 'GET' },
      status_code: { type: 'list', support: 'full', elements: 'int', default: [200] },
      return_content: { type: 'bool', support: 'full', default: false },
      body: { type: 'raw', support: 'full' },
      body_format: { type: 'str', support: 'full', default: 'raw', choices: ['raw', 'json', 'form-urlencoded'] },
      headers: { type: 'dict', support: 'full', default: {} },
      timeout: { type: 'int', support: 'full', default: 30 },
      validate_certs: { type: 'bool', support: 'full', default: true },
      follow_redirects: {
        type: 'str',
        support: 'partial',
        note: "'none' or any other value: curl -L follows every redirect, also for methods other than GET/HEAD",
        default: 'safe',
      },
    },
  },
  async run(ctx, p) {
    // each value is one curl argument; these keep it one method, one header line and one URL
    const method = String(p.method);
    if (!/^[A-Za-z]+$/.test(method))
      throw new ModuleFailure(`uri: method must be a word like GET or POST, got ${JSON.stringify(method)}`);
    for (const [k, v] of Object.entries(p.headers as Record<string, unknown>)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k))
        throw new ModuleFailure(`uri: ${JSON.stringify(k)} is not a valid header name`);
      noControlChars('uri', `headers.${k}`, v);
    }
    const headers = Object.entries(p.headers as Record<string, unknown>).flatMap(([k, v]) => [
      '-H',
      `${k}: ${String(v)}`,
    ]);
    let body: string | undefined;
    if (p.body !== undefined) {
      body = p.body_format === 'json' && typeof p.body !== 'string' ? JSON.stringify(p.body) : String(p.body);
      if (p.body_format === 'json') headers.push('-H', 'Content-Type: application/json');
    }
    const args = [
      '-sS',
      '-X',
      method,
      '--max-time',
      String(p.timeout),
      ...(p.validate_certs ? [] : ['-k']),
      ...(p.follow_redirects === 'none' ? [] : ['-L']),
      ...headers,
      ...(body !== undefined ? ['--data-binary', '@-'] : []),
      '-w',
      `\n${MARK}%{http_code}`,
      '--url',
      noControlChars('uri', 'url', p.url),
    ];
    const r = await ctx.run(sh`curl ${args}`, { stdin: body ?? '' });
    const at = r.stdout.lastIndexOf(`\n${MARK}`);
    if (at < 0) throw commandFailed(`request to ${String(p.url)}`, r);
    const content = r.stdout.slice(0, at);
    const status = Number(r.stdout.slice(at + MARK.length + 1));
    const ok = (p.status_code as number[]).includes(status);
    const result: Record<string, unknown> = { changed: false, status, url: p.url };
    if (p.return_content) {
      result.content = content;
      try {
        result.json = JSON.parse(content);
      } catch {
        /* not JSON */
      }
    }
    if (!ok)
      return {
        ...result,
        changed: false,
        failed: true,
        msg: `Status code was ${status} and not [${(p.status_code as number[]).join(', ')}]: ${r.stderr.trim() || 'HTTP error'}`,
      };
    return { changed: false, ...result };
  },
};
