// Transform sets with AH: two Rampart boxes negotiate `ah-sha-hmac esp-aes 256 esp-sha-hmac`
// (an AH + ESP bundle: quick mode gives two SA pairs, installed as one bundle); ping passes
// both ways, `show crypto ipsec sa` lists AH and ESP SAs, `clear crypto sa` deletes both.
// (An AH-only set raises no acquire in the data plane yet, so it is not tested here.)
import t from 'tap';
import { isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { gatewayConfig, rampartPairLab, waitForText } from './lab.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;
const PSK = 'ah-esp-psk-77';

for (const [tag, transform] of [['b', 'ah-sha-hmac esp-aes 256 esp-sha-hmac']] as const) {
  t.test(`two Rampart boxes with transform set ${transform}`, { skip, timeout: 300_000 }, async (t) => {
    const { lab, gwA, gwB } = await rampartPairLab(t, `rk1h${tag}`);
    const common = { psk: PSK, policy: ['encryption aes 256', 'hash sha', 'group 2'], transform };
    t.notMatch(await gwA.configure(gatewayConfig({ ...common, hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: ['172.16.0.2'] })), /\[.*\] %/);
    t.notMatch(await gwB.configure(gatewayConfig({ ...common, hostname: 'gwB', wan: '172.16.0.2', lan: '10.2.0.1', lanNet: '10.2.0.0', remoteLanNet: '10.1.0.0', peers: ['172.16.0.1'] })), /\[.*\] %/);
    await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 1 });
    const up = await ping(lab, 'hostA', '10.2.0.2', { count: 5, timeoutSec: 3 });
    t.ok(up, 'ping hostA -> hostB');
    if (!up) { t.comment(gwA.proc.output.split('\n').slice(-20).join('\n')); t.comment(await gwA.exec('show crypto isakmp sa')); t.comment(await gwB.exec('show crypto ipsec sa')); t.comment(JSON.stringify(gwA.proc.output.length)); return; }
    t.ok(await ping(lab, 'hostB', '10.1.0.2', { count: 3 }), 'ping hostB -> hostA');
    const sa = await gwA.exec('show crypto ipsec sa');
    t.match(sa, /inbound ah sas:\s*\n\s*spi: 0x/i, 'AH SAs installed');
    if (transform.includes('esp')) t.match(sa, /inbound esp sas:\s*\n\s*spi: 0x/i, 'and ESP SAs');
    await gwA.exec('clear crypto sa');
    t.notMatch(await waitForText(() => gwB.exec('show crypto ipsec sa'), /^(?![\s\S]*spi: 0x)/i, 10_000), /spi: 0x/i, 'DELETE removed both halves on gwB');
  });
}
