import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { PyDatetime, strftime } from './datetime.js';

/** Ansible's DEFAULT_MANAGED_STR (ansible.cfg `[defaults] ansible_managed`), 2.14's default. */
export const DEFAULT_MANAGED_STR = 'Ansible managed';

function ownerName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[2] === String(uid) && f[0]) return f[0];
    }
  } catch {
    // no passwd file: Ansible falls back to the number too
  }
  return String(uid);
}

/**
 * The variables Ansible's template module and lookup('template') add (generate_ansible_template_vars):
 * `path` as the task gave it, `fullpath` as found, `destPath` only for the module (the lookup has None).
 */
export function templateVars(
  path: string,
  fullpath: string,
  destPath: string | null,
  managed = DEFAULT_MANAGED_STR,
): Record<string, unknown> {
  const st = statSync(fullpath);
  const host = hostname();
  const uid = ownerName(st.uid);
  const managedStr = managed.replace(/\{(host|uid|file)\}/g, (_m, k: string) =>
    k === 'host' ? host : k === 'uid' ? uid : path,
  );
  return {
    template_host: host,
    template_path: path,
    template_mtime: new PyDatetime(st.mtime),
    template_uid: uid,
    template_run_date: new PyDatetime(new Date()),
    template_destpath: destPath,
    template_fullpath: resolve(fullpath),
    ansible_managed: strftime(managedStr, st.mtime),
  };
}
