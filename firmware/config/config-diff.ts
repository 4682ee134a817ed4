// Differences between two configurations as text, the way IOS compares them: each file is
// read as a tree by indentation (a line owns the more indented lines under it), and lines
// are matched by their text within the same parent. Two uses:
//   - `show archive config differences`: the contextual diff (`+` added, `-` removed, the
//     unchanged parent line printed for context);
//   - `configure replace`: the commands that turn one configuration into the other
//     (`no LINE` for removals, LINE for additions, parents entered for their children).

export interface ConfigNode {
  /** The line without its indentation (a banner keeps all its lines, joined by \n). */
  text: string;
  children: ConfigNode[];
}

/** Lines that carry no configuration: comments, `end`, the `show running-config` header. */
function ignorable(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('!') || t === 'end' || /^Building configuration/.test(t) || /^Current configuration\s*:/.test(t);
}

/** Reads configuration text into a tree of lines by indentation. */
export function parseConfigTree(text: string): ConfigNode[] {
  const root: ConfigNode = { text: '', children: [] };
  const stack: Array<{ node: ConfigNode; indent: number }> = [{ node: root, indent: -1 }];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/\s+$/, '');
    if (ignorable(line)) continue;
    if (line.trim() === 'end') break;
    const indent = line.length - line.trimStart().length;
    // `banner motd ^C ... ^C` spans lines: one node
    const banner = /^banner \S+ \^C/.exec(line.trimStart());
    if (banner && !line.trimStart().slice(banner[0].length).includes('^C')) {
      while (i + 1 < lines.length) {
        line += `\n${lines[++i]!}`;
        if (lines[i]!.includes('^C')) break;
      }
    }
    while (stack.length > 1 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const node: ConfigNode = { text: line.trimStart(), children: [] };
    stack[stack.length - 1]!.node.children.push(node);
    stack.push({ node, indent });
  }
  return root.children;
}

function sameTree(a: ConfigNode, b: ConfigNode): boolean {
  return a.text === b.text && a.children.length === b.children.length && a.children.every((c, i) => sameTree(c, b.children[i]!));
}

function find(nodes: ConfigNode[], text: string): ConfigNode | undefined {
  return nodes.find((n) => n.text === text);
}

/** Same lines under each parent, order aside. */
function sameSet(a: ConfigNode[], b: ConfigNode[]): boolean {
  return a.length === b.length && b.every((n) => { const m = find(a, n.text); return m !== undefined && sameSet(m.children, n.children); });
}

function signed(node: ConfigNode, sign: '+' | '-', depth: number, out: string[]): void {
  out.push(`${' '.repeat(depth)}${sign}${node.text}`);
  for (const c of node.children) signed(c, sign, depth + 1, out);
}

function contextual(a: ConfigNode[], b: ConfigNode[], depth: number, out: string[]): void {
  for (const n of b) {
    const m = find(a, n.text);
    if (!m) signed(n, '+', depth, out);
    else if (!sameSet(m.children, n.children)) {
      out.push(`${' '.repeat(depth)}${n.text}`);
      contextual(m.children, n.children, depth + 1, out);
    }
  }
  for (const m of a) if (!find(b, m.text)) signed(m, '-', depth, out);
}

/** The lines of IOS's contextual diff (after `!Contextual Config Diffs:`); empty when equal. */
export function contextualDiff(fromText: string, toText: string): string[] {
  const out: string[] = [];
  contextual(parseConfigTree(fromText), parseConfigTree(toText), 0, out);
  return out;
}

/**
 * The command that removes a line: `no LINE`; for a `no X` line, `X` (the default back),
 * or nothing when the other configuration has an `X ...` line there that replaces it.
 */
function removal(depth: number, text: string, targetSiblings: ConfigNode[]): ReplaceCommand[] {
  const banner = /^banner (\S+) /.exec(text);
  if (banner) return [{ depth, text: `no banner ${banner[1]}` }];
  const typed = /^interface (\S+) type \S+$/.exec(text);
  if (typed) return [{ depth, text: `no interface ${typed[1]}` }];
  if (!text.startsWith('no ')) return [{ depth, text: `no ${text}` }];
  const positive = text.slice(3);
  return targetSiblings.some((n) => n.text.startsWith(`${positive} `)) ? [] : [{ depth, text: positive }];
}

/** One command to apply: `depth` sub-modes deep (the parents were entered before it). */
export interface ReplaceCommand { depth: number; text: string }

function addAll(node: ConfigNode, depth: number, out: ReplaceCommand[]): void {
  out.push({ depth, text: node.text });
  for (const c of node.children) addAll(c, depth + 1, out);
}

function childCommands(a: ConfigNode[], b: ConfigNode[], depth: number, out: ReplaceCommand[]): void {
  for (const m of a) if (!find(b, m.text)) out.push(...removal(depth, m.text, b));
  for (const n of b) {
    const m = find(a, n.text);
    if (!m) addAll(n, depth, out);
    else if (!sameSet(m.children, n.children)) {
      out.push({ depth, text: n.text });
      childCommands(m.children, n.children, depth + 1, out);
    }
  }
}

/**
 * The commands that turn configuration `fromText` into `toText`: top-level lines that go
 * are removed first (last first, so a crypto map entry goes before the ACL it names), then
 * the lines of `toText` in order: new ones added, changed parents entered with their
 * children's removals before their additions (a new value after `no` of the old).
 * With `reorder`, a parent whose lines are the same but in another order (an ACL) is
 * removed and added again: the only way to reorder through commands.
 */
export function replaceCommands(fromText: string, toText: string, opts: { reorder?: boolean } = {}): ReplaceCommand[] {
  const a = parseConfigTree(fromText);
  const b = parseConfigTree(toText);
  const out: ReplaceCommand[] = [];
  for (const m of [...a].reverse()) if (!find(b, m.text)) out.push(...removal(0, m.text, b));
  for (const n of b) {
    const m = find(a, n.text);
    if (!m) addAll(n, 0, out);
    else if (!sameSet(m.children, n.children)) {
      out.push({ depth: 0, text: n.text });
      childCommands(m.children, n.children, 1, out);
    } else if (opts.reorder && !sameTree(m, n)) {
      out.push(...removal(0, m.text, b));
      addAll(n, 0, out);
    }
  }
  if (opts.reorder) out.push(...reorderedNumberedAcls(a, b));
  return out;
}

/** `access-list N ...` lines are top-level: an ACL whose lines changed order is removed and written again. */
function reorderedNumberedAcls(a: ConfigNode[], b: ConfigNode[]): ReplaceCommand[] {
  const lines = (nodes: ConfigNode[], n: string) => nodes.filter((x) => x.text.startsWith(`access-list ${n} `)).map((x) => x.text);
  const numbers = new Set(b.flatMap((x) => /^access-list (\S+) /.exec(x.text)?.[1] ?? []));
  const out: ReplaceCommand[] = [];
  for (const n of numbers) {
    const want = lines(b, n);
    if (lines(a, n).join('\n') === want.join('\n')) continue;
    out.push({ depth: 0, text: `no access-list ${n}` }, ...want.map((text) => ({ depth: 0, text })));
  }
  return out;
}

/** The commands as lines to type: `exit` back out of sub-modes before a shallower command. */
export function commandScript(cmds: ReplaceCommand[]): string[] {
  const out: string[] = [];
  let depth = 0; // sub-modes the session is in
  cmds.forEach((c, i) => {
    for (; depth > c.depth; depth--) out.push(`${' '.repeat(depth - 1)}exit`);
    out.push(...`${' '.repeat(c.depth)}${c.text}`.split('\n'));
    // only a line followed by deeper ones is a parent (one that entered a sub-mode)
    depth = (cmds[i + 1]?.depth ?? 0) > c.depth ? c.depth + 1 : c.depth;
  });
  return out;
}

/** Top-level blocks that changed between the two texts (their first line), for what follows the change. */
export function changedTopLevel(fromText: string, toText: string): { added: string[]; removed: string[]; modified: string[] } {
  const a = parseConfigTree(fromText);
  const b = parseConfigTree(toText);
  const added: string[] = [], removed: string[] = [], modified: string[] = [];
  for (const n of b) {
    const m = find(a, n.text);
    if (!m) added.push(n.text);
    else if (!sameTree(m, n)) modified.push(n.text);
  }
  for (const m of a) if (!find(b, m.text)) removed.push(m.text);
  return { added, removed, modified };
}
