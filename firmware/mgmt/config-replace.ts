// `configure replace`: as IOS does it, only the differences between the running
// configuration and the file are applied, as configuration commands through the normal
// command path, in passes (a command that fails because of another one's order gets another
// pass; IOS stops after 5). What did not change is never touched, so its runtime state
// (tunnels, SAs) stays as it is. Crypto map entries that did change (their lines, or the
// ACL, transform set or profile they name) lose their SAs, so the next traffic negotiates
// them with the new configuration.
import { changedTopLevel, commandScript, parseConfigTree, replaceCommands, type ConfigNode } from '../config/config-diff.js';

export const MAX_REPLACE_PASSES = 5;

export interface ReplaceDeps {
  /** The running configuration rendered as running-config text. */
  runningText(): string;
  /** Runs configuration lines on the running configuration (as typed in configuration mode). */
  applyLines(lines: string[]): Promise<void>;
}

/** Applies the differences to reach `target` (canonical running-config text); returns each pass's commands. */
export async function applyDifferences(target: string, deps: ReplaceDeps): Promise<{ passes: string[][]; done: boolean }> {
  const passes: string[][] = [];
  for (let pass = 0; pass < MAX_REPLACE_PASSES; pass++) {
    const current = deps.runningText();
    if (current === target) return { passes, done: true };
    let cmds = replaceCommands(current, target);
    // only the order differs (an ACL's lines): remove and re-add those blocks
    if (cmds.length === 0) cmds = replaceCommands(current, target, { reorder: true });
    if (cmds.length === 0) break;
    const script = commandScript(cmds);
    passes.push(script);
    await deps.applyLines(script);
  }
  return { passes, done: deps.runningText() === target };
}

/** `crypto map NAME SEQ ...` entries whose SAs no longer match the configuration. */
export function changedMapEntries(before: string, after: string): Array<{ map: string; seq: number }> {
  const top = changedTopLevel(before, after);
  const gone = new Set([...top.removed, ...top.modified]);
  const changedNames = (re: RegExp) => new Set([...top.added, ...top.removed, ...top.modified].flatMap((t) => {
    const m = re.exec(t);
    return m ? [m[1]!] : [];
  }));
  const acls = new Set([...changedNames(/^ip access-list (?:extended|standard) (\S+)/), ...changedNames(/^access-list (\S+) /)]);
  const sets = changedNames(/^crypto ipsec transform-set (\S+)/);
  const profiles = new Set([...changedNames(/^crypto isakmp profile (\S+)/), ...changedNames(/^crypto ikev2 profile (\S+)/)]);
  const out: Array<{ map: string; seq: number }> = [];
  for (const node of parseConfigTree(before)) {
    const m = /^crypto map (\S+) (\d+)(?:\s|$)/.exec(node.text);
    if (!m) continue;
    if (gone.has(node.text) || refersTo(node, acls, sets, profiles)) out.push({ map: m[1]!, seq: Number(m[2]) });
  }
  return out;
}

function refersTo(entry: ConfigNode, acls: Set<string>, sets: Set<string>, profiles: Set<string>): boolean {
  return entry.children.some((c) => {
    const acl = /^match address (\S+)/.exec(c.text);
    if (acl && acls.has(acl[1]!)) return true;
    const ts = /^set transform-set (.+)$/.exec(c.text);
    if (ts && ts[1]!.split(/\s+/).some((n) => sets.has(n))) return true;
    const prof = /^set (?:isakmp|ikev2)-profile (\S+)/.exec(c.text);
    return prof !== null && profiles.has(prof[1]!);
  });
}
