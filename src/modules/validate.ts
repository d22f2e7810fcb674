import { ModuleFailure } from './types.js';

/**
 * Checks for values that end up as names in commands or as fields in line-oriented files (crontab,
 * fstab, sysctl.conf). Quoting keeps a value one shell word; these keep it one name or one field:
 * a newline would add a line to the file, a leading `-` would be read as an option.
 */

const CONTROL = /[\x00-\x1f\x7f]/;

/** Fails when `value` has a control character (newline, tab, NUL...). */
export function noControlChars(module: string, param: string, value: unknown): string {
  const s = String(value);
  if (CONTROL.test(s))
    throw new ModuleFailure(
      `${module}: ${param} must not contain control characters (newline, tab...), got ${JSON.stringify(s)}`,
    );
  return s;
}

/** Fails unless `value` is a single field: no whitespace, no control characters. */
export function singleField(module: string, param: string, value: unknown): string {
  const s = noControlChars(module, param, value);
  if (/\s/.test(s) || s === '')
    throw new ModuleFailure(`${module}: ${param} must be one word without spaces, got ${JSON.stringify(s)}`);
  return s;
}

/**
 * A Debian package name (policy 5.6.1), with an optional :arch and version (=1.2, >=1.2, =1.2*); the
 * fnmatch wildcards * and ? that Ansible's apt takes are allowed. Never a leading - (an option).
 */
const DEB_PACKAGE = /^[a-z0-9*?][a-z0-9+.*?-]*(:[a-z0-9-]+)?(([<>]?=|[<>])[A-Za-z0-9.+~:*-]+)?$/;

export function debianPackage(module: string, value: string): string {
  if (!DEB_PACKAGE.test(value)) {
    throw new ModuleFailure(
      `${module}: ${JSON.stringify(value)} is not a valid package name (lowercase letters, digits, + - . and an optional =version)`,
    );
  }
  return value;
}

/**
 * A user or group name as shadow's tools take it (also with --badname): no leading -, no : , / or spaces; a number is
 * an id except as `name`.
 */
const ACCOUNT = /^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/;

export function accountName(module: string, param: string, value: unknown): string {
  const s = String(value);
  if (!ACCOUNT.test(s) || s.length > 32 || (param === 'name' && /^\d+$/.test(s)) || s === '.' || s === '..') {
    throw new ModuleFailure(
      `${module}: ${param} ${JSON.stringify(s)} is not a valid user or group name (letters, digits, _ . -, not starting with -, at most 32 characters)`,
    );
  }
  return s;
}

/**
 * A sysctl key: dot- or slash-separated parts of letters, digits, _ - + @ : (an interface name may hold a dot when
 * written with /).
 */
const SYSCTL_KEY = /^[A-Za-z0-9_@:+-]+([./][A-Za-z0-9_@:+-]+)*$/;

export function sysctlKey(value: unknown): string {
  const s = String(value);
  if (!SYSCTL_KEY.test(s))
    throw new ModuleFailure(`sysctl: ${JSON.stringify(s)} is not a valid sysctl key (like net.core.somaxconn)`);
  return s;
}

/** A service or unit name: also a file name under /etc/init.d, so no /, and no leading - (an option). */
export function serviceName(value: unknown): string {
  const s = String(value);
  if (!/^[A-Za-z0-9_.@:\\+-]+$/.test(s) || s.startsWith('-') || s === '.' || s === '..') {
    throw new ModuleFailure(
      `service: ${JSON.stringify(s)} is not a valid service name (letters, digits, _ . @ : + -, no / and not starting with -)`,
    );
  }
  return s;
}
