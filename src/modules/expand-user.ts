import { sh } from '../transport/quote.js';
import { ModuleFailure, type ModuleContext } from './types.js';

/**
 * Ansible's _remote_expand_user for action plugins (fetch's src, unarchive's dest and creates): a leading
 * `~` is the home directory of the user the task runs as (after become), `~name` that of name, read from
 * the host's passwd database.
 */
export async function expandRemoteUser(ctx: ModuleContext, path: string): Promise<string> {
  const m = /^~([^/]*)(.*)$/s.exec(path);
  if (!m) return path;
  const [, user = '', rest = ''] = m;
  const r = await ctx.run(user ? sh`getent passwd ${user} | cut -d: -f6` : 'getent passwd "$(id -un)" | cut -d: -f6');
  const home = r.stdout.trim();
  if (r.rc !== 0 || !home) throw new ModuleFailure(`could not expand ${path} on the host`);
  return `${home}${rest}`;
}
