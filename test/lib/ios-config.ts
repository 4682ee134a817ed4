// IOS configuration text for tests and benches, built from a few parameters so the same
// block is not typed out in several files, and one way to apply it that fails on any
// CLI error (a test never goes on with a half-applied configuration).

/** The smallest thing that runs CLI lines: a ScriptedConsole or a box's console. */
export interface LineRunner {
  run(line: string): Promise<string>;
}

/** A CLI line that failed: the line, its output, and every line applied before it. */
export class ConfigLineError extends Error {
  constructor(readonly line: string, readonly output: string) {
    super(`config line "${line.trim()}" failed: ${output.trim()}`);
  }
}

/** Output that reports an error (`% Invalid input`, `% Incomplete command`, ...), not a note or warning. */
export function isCliError(output: string): boolean {
  // system messages (`%SYS-5-CONFIG_I: ...`) may arrive between lines: not errors
  return /^%(?!\s*(Warning|NOTE|Note)\b)(?![A-Z0-9_]+-\d-[A-Z0-9_]+:)/m.test(output);
}

/**
 * Enters configuration mode, runs `lines`, and ends; throws ConfigLineError on the first
 * line whose output is a CLI error (after leaving configuration mode).
 */
export async function applyConfig(con: LineRunner, lines: readonly string[]): Promise<string> {
  let out = await con.run('configure terminal');
  for (const l of lines) {
    const o = await con.run(l);
    out += o;
    if (isCliError(o)) {
      await con.run('end');
      throw new ConfigLineError(l, o);
    }
  }
  out += await con.run('end');
  return out;
}

/**
 * A box with `n` crypto map entries (map BIG, one named ACL and peer each) on
 * FastEthernet0/0 at `address`: the configuration-apply bench and the diff tests.
 */
export function manyMapEntriesConfig(n: number, address: string): string[] {
  const lines = ['hostname Big', 'crypto ipsec transform-set TS esp-aes 256 esp-sha-hmac', ' exit'];
  for (let i = 1; i <= n; i++) {
    lines.push(`ip access-list extended M${i}`, ` permit ip 10.${(i >> 8) & 255}.${i & 255}.0 0.0.0.255 172.${16 + ((i >> 8) & 15)}.${i & 255}.0 0.0.0.255`, ' exit');
  }
  for (let i = 1; i <= n; i++) {
    lines.push(`crypto map BIG ${i} ipsec-isakmp`, ` set peer 192.0.2.${1 + (i % 250)}`, ' set transform-set TS', ` match address M${i}`, ' exit');
  }
  lines.push('interface FastEthernet0/0', ` ip address ${address} 255.0.0.0`, ' crypto map BIG', ' no shutdown', ' exit');
  return lines;
}

export interface Ikev2ResponderOptions {
  /** Names of the proposal, policy, keyring and profile (P2/POL2/KR2/RW2, ...). */
  names: { proposal: string; policy: string; keyring: string; keyringPeer: string; profile: string };
  psk: string;
  /** The peer's address as a keyring `address` (`0.0.0.0 0.0.0.0` for any). */
  keyringAddress: string;
  /** `match identity remote address ...` (address and optional mask). */
  matchRemote: string;
  localAddress: string;
}

/**
 * IKEv2 proposal (aes-cbc-256, sha256, group 14), policy, PSK keyring and profile: the
 * block the dynamic-map hub, the fuzz campaign and the VTI interop tests each configure.
 * The profile is left open (its submode) for extra lines; the caller adds `exit`.
 */
export function ikev2PskBlock(o: Ikev2ResponderOptions): string[] {
  const n = o.names;
  return [
    `crypto ikev2 proposal ${n.proposal}`, ' encryption aes-cbc-256', ' integrity sha256', ' group 14', 'exit',
    `crypto ikev2 policy ${n.policy}`, ` proposal ${n.proposal}`, 'exit',
    `crypto ikev2 keyring ${n.keyring}`, ` peer ${n.keyringPeer}`, `  address ${o.keyringAddress}`, `  pre-shared-key ${o.psk}`, ' exit', 'exit',
    `crypto ikev2 profile ${n.profile}`, ` match identity remote address ${o.matchRemote}`, ` identity local address ${o.localAddress}`,
    ' authentication local pre-share', ' authentication remote pre-share', ` keyring local ${n.keyring}`,
  ];
}
