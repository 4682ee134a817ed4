// strongSwan as a peer inside an appliance guest (booted with scripts/qemu-extras.mjs's
// archive): charon with kernel-netlink, so its SAs are the guest kernel's XFRM (this host's
// kernel has no ESP; here libipsec is not loaded). It runs in a network namespace of the
// guest that owns one NIC, configured with test/lib/strongswan.ts's generated files and
// driven with swanctl, all through the guest agent.
import type { Appliance } from './appliance.js';
import { renderStrongswanConf, renderSwanctlConf, type SwanConnection } from './strongswan.js';

const DIR = '/run/swan';
const ENV = `STRONGSWAN_CONF=${DIR}/strongswan.conf`;

/** A shell here-document writing `text` to `path` (the text never holds the end word). */
const writeFile = (path: string, text: string) => `cat > ${path} <<'__RAMPART_EOF__'\n${text}\n__RAMPART_EOF__`;

/**
 * Moves the guest's `ifname` into namespace `netns` with `wan` (prefix) on it and `lan` on
 * its loopback, starts charon there and waits for its VICI socket.
 */
export async function startGuestCharon(vm: Appliance, o: { netns: string; ifname: string; wan: string; lan: string }): Promise<void> {
  const ns = `/sbin/ip netns exec ${o.netns}`;
  await vm.shell([
    'set -e', `mkdir -p ${DIR}`,
    writeFile(`${DIR}/strongswan.conf`, renderStrongswanConf(DIR, { excludePlugins: ['kernel-libipsec', 'updown'] })),
    `/sbin/ip netns add ${o.netns}`, `/sbin/ip link set ${o.ifname} netns ${o.netns}`,
    `${ns} /sbin/ip link set lo up`, `${ns} /sbin/ip link set ${o.ifname} up`,
    `${ns} /sbin/ip addr add ${o.wan} dev ${o.ifname}`, `${ns} /sbin/ip addr add ${o.lan} dev lo`,
    `${ENV} ${ns} /usr/lib/ipsec/charon </dev/null >${DIR}/charon.out 2>&1 &`,
    `for i in $(seq 60); do ${ENV} swanctl --stats >/dev/null 2>&1 && exit 0; sleep 1; done; cat ${DIR}/charon.out; exit 1`,
  ].join('\n'), 90000);
}

/** Replaces charon's connections and secrets with `conns`. */
export async function loadGuestSwanctl(vm: Appliance, conns: SwanConnection[]): Promise<string> {
  return vm.shell([writeFile(`${DIR}/swanctl.conf`, renderSwanctlConf(conns)), `${ENV} swanctl --load-all --clear --file ${DIR}/swanctl.conf 2>/dev/null`].join('\n'), 60000);
}

/** Runs swanctl against the guest's charon (its plugin-loading noise on stderr dropped). */
export async function guestSwanctl(vm: Appliance, args: string, timeoutMs = 60000): Promise<{ code: number; out: string }> {
  return vm.exec(`${ENV} swanctl ${args} 2>/dev/null`, timeoutMs);
}
