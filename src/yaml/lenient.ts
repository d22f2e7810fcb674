/**
 * PyYAML (Ansible's reader) accepts a quoted scalar whose continuation lines are indented less than the key it
 * belongs to; the `yaml` library refuses them. Leading white space of a continuation line is not part of a
 * quoted scalar's value (it is folded away), so indenting such lines further changes no value: this pass does
 * that, and the loader uses it only when the text as written does not parse.
 */
export function indentQuotedContinuations(text: string): string {
  const lines = text.split('\n');
  let quote: '"' | "'" | undefined;
  let minIndent = 0;
  let blockIndent = -1; // inside a block scalar (| or >): lines indented more than this are raw text
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] ?? '';
    const indent = line.length - line.trimStart().length;
    if (quote) {
      if (line.trim() !== '' && indent < minIndent) line = ' '.repeat(minIndent) + line.trimStart();
      lines[i] = line;
    } else if (blockIndent >= 0) {
      if (line.trim() === '' || indent > blockIndent) continue;
      blockIndent = -1;
    }
    const start = quote ? line.length - line.trimStart().length : 0;
    const scan = scanLine(line, start, quote);
    if (scan.opened !== undefined) minIndent = scan.opened + 1;
    quote = scan.quote;
    if (!quote && scan.blockScalar) blockIndent = indent;
  }
  return lines.join('\n');
}

/**
 * Where a quote may open a scalar: at the start of a value (after `: `, `- `, `? `, `[`, `{`, `,` or the line
 * start).
 */
function opensScalar(before: string): boolean {
  const t = before.trimEnd();
  return t === '' || /:$/.test(t) || /(^|\s)[?-]$/.test(t) || /[[{,]$/.test(t);
}

function scanLine(
  line: string,
  from: number,
  open: '"' | "'" | undefined,
): { quote: '"' | "'" | undefined; opened?: number; blockScalar: boolean } {
  let quote = open;
  let opened: number | undefined;
  for (let j = from; j < line.length; j++) {
    const c = line[j];
    if (quote === '"') {
      if (c === '\\') j++;
      else if (c === '"') quote = undefined;
    } else if (quote === "'") {
      if (c === "'" && line[j + 1] === "'") j++;
      else if (c === "'") quote = undefined;
    } else if (c === '#' && (j === 0 || /\s/.test(line[j - 1] ?? ''))) break;
    else if ((c === '"' || c === "'") && opensScalar(line.slice(0, j))) {
      quote = c;
      opened = j;
    }
  }
  const blockScalar = !quote && /(^|[:-]\s+|^\s*-\s+)[|>][-+0-9]*\s*(#.*)?$/.test(line.trimEnd());
  return { quote, opened: quote ? opened : undefined, blockScalar };
}
