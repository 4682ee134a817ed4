// `access-class ACL in` on a line: may a session come from this source address? The
// list's source part is checked in order, first match wins, implicit deny at the end; a
// list that does not exist permits everything, as IOS does.
import { aclRules } from '../config/acl.js';
import type { Config } from '../config/model.js';
import { parseIpv4 } from '../lib/ip.js';

export function accessClassPermits(cfg: Config, listName: string | undefined, source: string): boolean {
  if (!listName) return true;
  const list = cfg.acl.lists[listName];
  if (!list) return true;
  const ip = parseIpv4(source.replace(/^::ffff:/, ''));
  if (ip === undefined) return false;
  for (const rule of aclRules(list)) {
    const addr = parseIpv4(rule.source.address)!, wild = parseIpv4(rule.source.wildcard)!;
    if (((ip & ~wild) >>> 0) === ((addr & ~wild) >>> 0)) return rule.action === 'permit';
  }
  return false;
}
