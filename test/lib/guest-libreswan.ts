// libreswan as a peer inside an appliance guest (booted with scripts/qemu-extras.mjs's
// archive, which carries pluto, whack, addconn and NSS's certutil from Debian's packages).
// pluto programs the guest kernel's XFRM (this host's kernel has no ESP, so libreswan can
// only run here). It runs in a network namespace of the guest that owns one NIC, with its
// own run directory and NSS database, driven through the guest agent.
import type { Appliance } from './appliance.js';

const DIR = '/run/lsw';
const CTL = `${DIR}/run/pluto.ctl`;
const WHACK = `/usr/libexec/ipsec/whack --ctlsocket ${CTL}`;

/** One libreswan connection (ipsec.conf `conn`), PSK-authenticated by address. */
export interface LibreswanConn {
  name: string;
  version: 1 | 2;
  left: string;
  leftSubnet: string;
  right: string;
  rightSubnet: string;
  psk: string;
  /** ipsec.conf `ike=`, e.g. 'aes256-sha2_256;modp2048' */
  ike: string;
  /** ipsec.conf `esp=`, e.g. 'aes_gcm256' or 'aes256-sha1' */
  esp: string;
  /** `salifetime` in seconds (libreswan rekeys before it ends) */
  saLifetimeSec?: number;
  pfs?: boolean;
}

/** A shell here-document writing `text` to `path` (the text never holds the end word). */
const writeFile = (path: string, text: string) => `cat > ${path} <<'__RAMPART_EOF__'\n${text}\n__RAMPART_EOF__`;

/** ipsec.conf: `config setup` (IKEv1 allowed, log to a file) and the connections. */
export function renderIpsecConf(conns: readonly LibreswanConn[]): string {
  const out = [
    'config setup',
    '\tikev1-policy=accept',
    `\tlogfile=${DIR}/pluto.log`,
    '\tplutodebug=none',
    '',
  ];
  for (const c of conns) {
    out.push(
      `conn ${c.name}`,
      `\tleft=${c.left}`, `\tleftsubnet=${c.leftSubnet}`, `\tright=${c.right}`, `\trightsubnet=${c.rightSubnet}`,
      '\tauthby=secret', `\tikev2=${c.version === 2 ? 'yes' : 'no'}`,
      `\tike=${c.ike}`, `\tesp=${c.esp}`, `\tpfs=${c.pfs ? 'yes' : 'no'}`,
      // no updown script: the guest has no `ipsec` wrapper and no iptables; routes are the test's
      '\tleftupdown=/bin/true',
      ...(c.saLifetimeSec !== undefined ? [`\tsalifetime=${c.saLifetimeSec}s`, '\trekeymargin=5s', '\trekeyfuzz=0%'] : []),
      '\tauto=add',
      '',
    );
  }
  return out.join('\n');
}

/** ipsec.secrets for the connections. */
export function renderIpsecSecrets(conns: readonly LibreswanConn[]): string {
  return conns.map((c) => `${c.left} ${c.right} : PSK "${c.psk.replace(/"/g, '')}"`).join('\n');
}

/**
 * Starts pluto in namespace `netns` of the guest. With `ifname`, the namespace is made first
 * and the guest's `ifname` moved into it with `wan` (prefix) on it and `lan` on its loopback;
 * without, it must exist already. Waits for pluto's control socket.
 */
export async function startGuestPluto(vm: Appliance, o: { netns: string; ifname?: string; wan?: string; lan?: string }): Promise<void> {
  const ns = `/sbin/ip netns exec ${o.netns}`;
  const make = o.ifname ? [
    `/sbin/ip netns add ${o.netns}`, `/sbin/ip link set ${o.ifname} netns ${o.netns}`,
    `${ns} /sbin/ip link set lo up`, `${ns} /sbin/ip link set ${o.ifname} up`,
    `${ns} /sbin/ip addr add ${o.wan} dev ${o.ifname}`, `${ns} /sbin/ip addr add ${o.lan} dev lo`,
  ] : [];
  await vm.shell([
    'set -e', `mkdir -p ${DIR}/nss ${DIR}/run /run/pluto`, ...make,
    writeFile(`${DIR}/ipsec.conf`, renderIpsecConf([])), `: > ${DIR}/ipsec.secrets`,
    `[ -f ${DIR}/nss/cert9.db ] || certutil -N -d sql:${DIR}/nss --empty-password`,
    `${ns} /usr/libexec/ipsec/pluto --config ${DIR}/ipsec.conf --secretsfile ${DIR}/ipsec.secrets --nssdir ${DIR}/nss --rundir ${DIR}/run --nofork </dev/null >${DIR}/pluto.out 2>&1 &`,
    `for i in $(seq 90); do [ -S ${CTL} ] && ${WHACK} --status >/dev/null 2>&1 && exit 0; sleep 1; done; cat ${DIR}/pluto.out; tail -20 ${DIR}/pluto.log; exit 1`,
  ].join('\n'), 120000);
}

/** Replaces pluto's connections and secrets with `conns` (IKE SAs of the old ones go). */
export async function loadGuestLibreswan(vm: Appliance, conns: readonly LibreswanConn[], old: readonly string[] = []): Promise<string> {
  return vm.shell([
    ...[...old, ...conns.map((c) => c.name)].map((n) => `${WHACK} --delete --name ${n} >/dev/null 2>&1 || true`),
    writeFile(`${DIR}/ipsec.conf`, renderIpsecConf(conns)), writeFile(`${DIR}/ipsec.secrets`, renderIpsecSecrets(conns)),
    `${WHACK} --rereadsecrets`,
    ...conns.map((c) => `/usr/libexec/ipsec/addconn --ctlsocket ${CTL} --config ${DIR}/ipsec.conf ${c.name}`),
  ].join('\n'), 60000);
}

/** Runs whack against the guest's pluto; its status and output. */
export function guestWhack(vm: Appliance, args: string, timeoutMs = 60000): Promise<{ code: number; out: string }> {
  return vm.exec(`${WHACK} ${args} 2>&1`, timeoutMs);
}

/** Stops pluto (its SAs leave the kernel with it). */
export async function stopGuestPluto(vm: Appliance): Promise<void> {
  await vm.exec(`${WHACK} --shutdown >/dev/null 2>&1; for i in $(seq 30); do [ -S ${CTL} ] || exit 0; sleep 1; done`, 60000);
}

/** pluto's log (for a failing test's comment). */
export async function guestPlutoLog(vm: Appliance, lines = 40): Promise<string> {
  return (await vm.exec(`tail -${lines} ${DIR}/pluto.log 2>&1`)).out;
}
