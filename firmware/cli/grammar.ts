// Command grammar: one string per command, compiled into a small tree that the matcher walks.
//
//   keyword         lower-case literal, matched case-insensitively by unique prefix
//   WORD            any word                    LINE      the rest of the line, verbatim
//   A.B.C.D         IPv4 address                A.B.C.D/M IPv4 prefix
//   X:X::X:X        IPv6 address                X:X::X:X/M IPv6 prefix
//   (1-65535)       number in a range           HEX       hexadecimal string
//   IFNAME          interface name (`Fa0/0`, `FastEthernet0/0`, `Tunnel1`, `fa 0/0` is not
//                   accepted: IOS itself wants one word after the type for most commands)
//   [a|b c]         optional choice             <a|b c>   required choice
//   TOKEN...        one or more of TOKEN (the rest of the line)
//   TOKEN$name      names the value for the handler (default name: the token text)

export type VarType = 'WORD' | 'LINE' | 'IPV4' | 'IPV4_PREFIX' | 'IPV6' | 'IPV6_PREFIX' | 'RANGE' | 'HEX' | 'IFNAME';

export type GrammarNode =
  | { kind: 'kw'; word: string }
  | { kind: 'var'; type: VarType; name: string; display: string; min?: number; max?: number }
  | { kind: 'seq'; items: GrammarNode[] }
  | { kind: 'alt'; options: GrammarNode[]; optional: boolean }
  | { kind: 'repeat'; item: GrammarNode };

export class GrammarError extends Error {}

const VAR_TOKENS: Record<string, VarType> = {
  WORD: 'WORD', LINE: 'LINE', 'A.B.C.D': 'IPV4', 'A.B.C.D/M': 'IPV4_PREFIX', 'X:X::X:X': 'IPV6',
  'X:X::X:X/M': 'IPV6_PREFIX', HEX: 'HEX', IFNAME: 'IFNAME',
};

/** Splits a syntax string into tokens: brackets and bars stand alone. */
function lex(syntax: string): string[] {
  return syntax.replace(/([[\]<>|])/g, ' $1 ').trim().split(/\s+/).filter((s) => s.length > 0);
}

export function compileSyntax(syntax: string): GrammarNode {
  const tokens = lex(syntax);
  let pos = 0;
  const parseSeq = (closers: string[]): GrammarNode => {
    const items: GrammarNode[] = [];
    while (pos < tokens.length && !closers.includes(tokens[pos]!)) items.push(parseItem());
    return items.length === 1 ? items[0]! : { kind: 'seq', items };
  };
  const parseGroup = (close: string, optional: boolean): GrammarNode => {
    const options: GrammarNode[] = [];
    for (;;) {
      options.push(parseSeq(['|', close]));
      const t = tokens[pos++];
      if (t === close) break;
      if (t !== '|') throw new GrammarError(`unclosed group in "${syntax}"`);
    }
    return { kind: 'alt', options, optional };
  };
  const parseItem = (): GrammarNode => {
    const tok = tokens[pos++]!;
    let node: GrammarNode;
    if (tok === '[') node = parseGroup(']', true);
    else if (tok === '<') node = parseGroup('>', false);
    else {
      let text = tok;
      let repeat = false;
      if (text.endsWith('...')) { repeat = true; text = text.slice(0, -3); }
      let name: string | undefined;
      const dollar = text.lastIndexOf('$');
      if (dollar > 0) { name = text.slice(dollar + 1); text = text.slice(0, dollar); }
      node = atom(text, name, syntax);
      if (repeat) node = { kind: 'repeat', item: node };
    }
    return node;
  };
  const root = parseSeq([]);
  if (pos !== tokens.length) throw new GrammarError(`unexpected "${tokens[pos]}" in "${syntax}"`);
  return root;
}

function atom(text: string, name: string | undefined, syntax: string): GrammarNode {
  const range = /^\((\d+)-(\d+)\)$/.exec(text);
  if (range) {
    return { kind: 'var', type: 'RANGE', name: name ?? text, display: `<${range[1]}-${range[2]}>`, min: Number(range[1]), max: Number(range[2]) };
  }
  const type = VAR_TOKENS[text];
  if (type) return { kind: 'var', type, name: name ?? text, display: text };
  // Keywords may carry IOS's file-system and option spellings: `flash:`, `/force`, `/sha256`.
  if (!/^\/?[a-z0-9][a-z0-9._:-]*$/.test(text)) throw new GrammarError(`bad token "${text}" in "${syntax}"`);
  return { kind: 'kw', word: text };
}

/** True when the node can match zero words. */
export function isNullable(node: GrammarNode): boolean {
  switch (node.kind) {
    case 'kw': case 'var': case 'repeat': return false;
    case 'seq': return node.items.every(isNullable);
    case 'alt': return node.optional || node.options.some(isNullable);
  }
}

/** The keywords a command can start with (used to index commands by first word),
 *  or undefined when a variable can come first. */
export function firstKeywords(node: GrammarNode): string[] | undefined {
  switch (node.kind) {
    case 'kw': return [node.word];
    case 'var': case 'repeat': return undefined;
    case 'alt': {
      const all: string[] = [];
      for (const o of node.options) {
        const f = firstKeywords(o);
        if (!f) return undefined;
        all.push(...f);
      }
      return all;
    }
    case 'seq': {
      const out: string[] = [];
      for (const item of node.items) {
        const f = firstKeywords(item);
        if (!f) return undefined;
        out.push(...f);
        if (!isNullable(item)) return out;
      }
      return undefined;
    }
  }
}
