/**
 * Ansible's tag selection: `always` runs unless skipped by name, `never` only when asked for,
 * `tagged`/`untagged` select by having tags at all.
 */
export function selectedByTags(taskTags: readonly string[], only: readonly string[], skip: readonly string[]): boolean {
  const tags = new Set(taskTags);
  if (skip.some((s) => tags.has(s) || (s === 'tagged' && tags.size > 0) || (s === 'untagged' && tags.size === 0)))
    return false;
  if (only.length === 0 || only.includes('all')) return !tags.has('never') || only.includes('never');
  if (tags.has('always')) return true;
  return only.some((o) => tags.has(o) || (o === 'tagged' && tags.size > 0) || (o === 'untagged' && tags.size === 0));
}
