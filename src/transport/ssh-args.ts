import { shlexSplit } from '../modules/shlex.js';

/**
 * `ansible_ssh_common_args` / `ansible_ssh_extra_args`: the OpenSSH command-line options Ansible adds to
 * every ssh it runs. orch reads those that say where and how to connect: `-F FILE` (the ssh_config to read
 * instead of ~/.ssh/config), `-o Key=Value` (as ssh_config lines that come first: a command-line value wins
 * over the file's), `-J`, `-p`, `-l`, `-i`. Options about ssh's own process (-C, -q, -v, ControlPersist...)
 * mean nothing to one ssh2 connection and are skipped; a ProxyCommand is refused (orch cannot run it, and
 * connecting without it would go somewhere else).
 */
export interface SshArgs {
  configFile?: string;
  /** ssh_config lines built from the options, read before the file's */
  lines: string[];
}

/** Flags of ssh(1) that take a value (the value is the next word unless attached). */
const WITH_VALUE = new Set('BbcDEeFIiJLlmOoPpQRSWw'.split(''));

export class SshArgsError extends Error {}

export function parseSshArgs(...texts: (string | undefined)[]): SshArgs {
  const out: SshArgs = { lines: [] };
  for (const text of texts) {
    if (!text) continue;
    let words: string[];
    try {
      words = shlexSplit(text);
    } catch (err) {
      throw new SshArgsError(`cannot read ssh arguments '${text}': ${(err as Error).message}`);
    }
    for (let i = 0; i < words.length; i++) {
      const w = words[i] as string;
      if (!w.startsWith('-') || w.length < 2)
        throw new SshArgsError(`unexpected word '${w}' in ssh arguments '${text}'`);
      // -CqT: a cluster of flags without values; a flag with a value ends the cluster (-p2222, -oPort=1)
      let j = 1;
      while (j < w.length && !WITH_VALUE.has(w[j] as string)) j++;
      if (j >= w.length) continue;
      const flag = w[j] as string;
      const value = j + 1 < w.length ? w.slice(j + 1) : words[++i];
      if (value === undefined) throw new SshArgsError(`ssh option -${flag} needs a value in '${text}'`);
      if (flag === 'F') out.configFile ??= value;
      else if (flag === 'o') out.lines.push(optionLine(value));
      else if (flag === 'J') out.lines.push(`ProxyJump ${value}`);
      else if (flag === 'p') out.lines.push(`Port ${value}`);
      else if (flag === 'l') out.lines.push(`User ${value}`);
      else if (flag === 'i') out.lines.push(`IdentityFile ${value}`);
    }
  }
  return out;
}

function optionLine(option: string): string {
  const m = /^\s*([A-Za-z]+)\s*(?:=|\s)\s*(.*)$/.exec(option);
  if (!m) throw new SshArgsError(`cannot read ssh option '-o ${option}'`);
  const key = (m[1] as string).toLowerCase();
  if (key === 'proxycommand' && (m[2] as string).trim().toLowerCase() !== 'none') {
    throw new SshArgsError(`ssh option ProxyCommand is not supported by orch (use ProxyJump): '-o ${option}'`);
  }
  return `${m[1]} ${m[2]}`;
}
