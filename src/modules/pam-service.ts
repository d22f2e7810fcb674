import { Line, parseArgs } from './pam-rule.js';
import { ModuleFailure } from './types.js';

/**
 * community.general.pamd's model of a PAM service file, ported line for line so that orch writes the same
 * bytes: a doubly linked list of lines whose edits relink neighbours exactly as the Python module does
 * (inserting before/after a rule drops the comments and blank lines between it and the neighbouring rule,
 * as Ansible's does), every rule written back in pamd's layout, and the "# Updated by Ansible" mark.
 */

const isBlank = (l: Line | undefined) => l !== undefined && (l.kind === 'comment' || l.kind === 'empty');

export interface RuleSpec {
  type?: string;
  control?: string;
  path?: string;
  args?: unknown;
}

export class PamService {
  private head: Line | undefined;
  private tail: Line | undefined;

  constructor(content: string) {
    // Python's splitlines (the line breaks a PAM file has)
    const lines = content.split(/\r\n|\r|\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    for (const l of lines) this.append(Line.parse(l));
  }

  private append(line: Line): void {
    if (!this.tail) {
      this.head = this.tail = line;
      return;
    }
    line.prev = this.tail;
    this.tail.next = line;
    this.tail = line;
  }

  private *lines(): Generator<Line> {
    for (let l = this.head; l; l = l.next) yield l;
  }

  private get(type: string, control: string, path: string): Line[] {
    return [...this.lines()].filter((l) => l.matches(type, control, path));
  }

  remove(type: string, control: string, path: string): number {
    let changes = 0;
    for (let l = this.head; l; l = l.next) {
      if (!l.matches(type, control, path)) continue;
      if (l.prev) {
        l.prev.next = l.next;
        if (l.next) l.next.prev = l.prev;
      } else {
        this.head = l.next;
        if (l.next) l.next.prev = undefined;
      }
      changes++;
    }
    return changes;
  }

  update(type: string, control: string, path: string, to: RuleSpec): number {
    const newArgs = to.args === undefined || to.args === null ? undefined : parseArgs(to.args);
    let changes = 0;
    for (const r of this.get(type, control, path)) {
      let changed = false;
      if (to.type && r.type !== to.type) {
        r.type = to.type;
        changed = true;
      }
      if (to.control && r.controlText !== to.control) {
        r.setControl(to.control);
        changed = true;
      }
      if (to.path && r.path !== to.path) {
        r.path = to.path;
        changed = true;
      }
      if (newArgs !== undefined && r.args.join('\0') !== newArgs.join('\0')) {
        r.args = newArgs;
        changed = true;
      }
      if (changed) changes++;
    }
    return changes;
  }

  private newRule(to: RuleSpec): Line {
    return new Line('rule', '', to.type, to.control, to.path, parseArgs(to.args));
  }

  /** Link `rule` between `a` (the head when none) and `b`, whatever was between them before. */
  private link(a: Line | undefined, rule: Line, b: Line): void {
    if (a) a.next = rule;
    else this.head = rule;
    rule.prev = a;
    rule.next = b;
    b.prev = rule;
  }

  insertBefore(type: string, control: string, path: string, to: RuleSpec): number {
    let changes = 0;
    for (const current of this.get(type, control, path)) {
      let prev = current.prev;
      while (isBlank(prev)) prev = prev?.prev;
      // after the rule before: the comments and blank lines between are dropped (as pamd does)
      if (prev && !prev.matches(to.type, to.control, to.path)) this.link(prev, this.newRule(to), current);
      else if (!prev) this.link(current.prev, this.newRule(to), current);
      else continue;
      changes++;
    }
    return changes;
  }

  insertAfter(type: string, control: string, path: string, to: RuleSpec): number {
    let changes = 0;
    for (const current of this.get(type, control, path)) {
      let next = current.next;
      while (isBlank(next)) next = next?.next;
      const rule = this.newRule(to);
      if (next && !next.matches(to.type, to.control, to.path)) this.link(current, rule, next);
      else if (!next && this.tail) {
        // appended at the end, and linked from the matched rule: what followed it is dropped (as pamd does)
        rule.prev = this.tail;
        this.tail.next = rule;
        this.tail = rule;
        current.next = rule;
      } else continue;
      changes++;
    }
    return changes;
  }

  addArgs(type: string, control: string, path: string, args: unknown): number {
    const wanted = parseArgs(args);
    const split = (list: string[]) => {
      const simple: string[] = [];
      const kv = new Map<string, string>();
      for (const a of list) {
        if (a.startsWith('[')) continue;
        if (!a.includes('=')) {
          if (!simple.includes(a)) simple.push(a);
          continue;
        }
        const parts = a.split('=');
        if (parts.length !== 2) throw new ModuleFailure(`too many values to unpack (expected 2)`);
        kv.set(parts[0] as string, parts[1] as string);
      }
      return { simple, kv };
    };
    let changes = 0;
    for (const r of this.get(type, control, path)) {
      const add = split(wanted);
      const have = split(r.args);
      let changed = false;
      // (pamd iterates Python sets here: with several new arguments its order varies between runs; orch keeps the
      // given order)
      const extra = [
        ...add.simple.filter((a) => !have.simple.includes(a)),
        ...[...add.kv].filter(([k]) => !have.kv.has(k)).map(([k, v]) => `${k}=${v}`),
      ];
      if (extra.length > 0) {
        r.args = [...r.args, ...extra];
        changed = true;
      }
      for (const [k, v] of add.kv) {
        const old = have.kv.get(k);
        if (old === undefined || old === v) continue;
        r.args[r.args.indexOf(`${k}=${old}`)] = `${k}=${v}`;
        changed = true;
      }
      if (changed) changes++;
    }
    return changes;
  }

  removeArgs(type: string, control: string, path: string, args: unknown): number {
    const gone = parseArgs(args);
    let changes = 0;
    for (const r of this.get(type, control, path)) {
      if (!r.args.some((a) => gone.includes(a))) continue;
      r.args = r.args.filter((a) => !gone.includes(a));
      changes++;
    }
    return changes;
  }

  validate(): [boolean, string] {
    for (const l of this.lines()) {
      const v = l.validate();
      if (!v[0]) return v;
    }
    return [true, 'Module is valid'];
  }

  /** The file pamd writes: every line, with "# Updated by Ansible - NOW" as the second. */
  render(now: string): string {
    const lines = [...this.lines()].map(String);
    const mark = `# Updated by Ansible - ${now}`;
    if (lines.length <= 1) lines.splice(0, 0, '', mark);
    else if (lines[1]?.startsWith('# Updated by Ansible')) lines[1] = mark;
    else lines.splice(1, 0, mark);
    return `${lines.join('\n')}\n`;
  }
}
