// Output modifiers after `|` on show commands: include, exclude, begin, section, count, json.
// Keywords abbreviate like any IOS keyword; several filters may be chained.

export type Filter =
  | { kind: 'include' | 'exclude' | 'begin' | 'section'; re: RegExp }
  | { kind: 'count'; re?: RegExp }
  | { kind: 'json' };

const KINDS = ['begin', 'count', 'exclude', 'include', 'json', 'section'] as const;

function compile(text: string): RegExp | undefined {
  try {
    return new RegExp(text);
  } catch {
    return undefined;
  }
}

/** Parses `| include foo | count`; undefined when a filter is malformed. */
export function parseFilters(text: string): Filter[] | undefined {
  const out: Filter[] = [];
  for (const part of text.split(/\s\|/).map((p) => p.replace(/^\s*\|?\s*/, ''))) {
    const m = /^(\S+)\s*(.*)$/.exec(part);
    if (!m) return undefined;
    const word = m[1]!.toLowerCase();
    const hits = KINDS.filter((k) => k.startsWith(word));
    const kind = hits.length === 1 ? hits[0]! : KINDS.find((k) => k === word);
    if (!kind) return undefined;
    const arg = m[2]!; // IOS takes the rest of the line as the regular expression, spaces included
    if (kind === 'json') {
      if (arg.trim()) return undefined;
      out.push({ kind });
    } else if (kind === 'count') {
      const re = arg ? compile(arg) : undefined;
      if (arg && !re) return undefined;
      out.push({ kind, re });
    } else {
      const re = arg ? compile(arg) : undefined;
      if (!re) return undefined;
      out.push({ kind, re });
    }
  }
  return out;
}

export function applyFilters(lines: string[], filters: Filter[]): string[] {
  let cur = lines;
  // A trailing empty string from a final newline is not a line of output.
  if (cur.length > 0 && cur[cur.length - 1] === '') cur = cur.slice(0, -1);
  for (const f of filters) {
    switch (f.kind) {
      case 'include': cur = cur.filter((l) => f.re.test(l)); break;
      case 'exclude': cur = cur.filter((l) => !f.re.test(l)); break;
      case 'begin': {
        const i = cur.findIndex((l) => f.re.test(l));
        cur = i < 0 ? [] : cur.slice(i);
        break;
      }
      case 'section': cur = section(cur, f.re); break;
      case 'count': {
        const n = f.re ? cur.filter((l) => f.re!.test(l)).length : cur.length;
        cur = [`Number of lines which match regexp = ${n}`];
        break;
      }
      case 'json': break;
    }
  }
  return cur;
}

/** Lines matching `re` that start a section, with the indented lines under them. */
function section(lines: string[], re: RegExp): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/^\s/.test(l)) continue;
    let j = i + 1;
    while (j < lines.length && /^\s/.test(lines[j]!) && lines[j] !== '') j++;
    const block = lines.slice(i, j);
    if (block.some((b) => re.test(b))) out.push(...block);
    i = j - 1;
  }
  return out;
}
