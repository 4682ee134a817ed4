// The IKEv1 service's mapping of the IOS configuration model to the engine (no root, no daemon):
// policies with IOS defaults, keys/keyrings/profiles, transform sets, selectors, flow text.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig } from '../../firmware/config/model.js';
import { resolveCryptoMapSet } from '../../firmware/config/crypto-map.js';
import { fakeSystem } from '../lib/fake-system.js';
import { addrToSel, flowText, peerConfigFrom, policiesFrom, selsToTraffic, setsForFlow, toV1TransformSet } from '../../firmware/ike/v1/config-map.js';
import { prefixAddr, selectorKey } from '../../firmware/ipsec/selector.js';

async function configured(lines: string[]) {
  const cfg = createConfig();
  const { text } = await runTranscript(['configure terminal', ...lines, 'end'], { config: cfg, system: fakeSystem(), privileged: true });
  return { cfg, text };
}

t.test('policies, keys, keyrings and profiles', async (t) => {
  const { cfg } = await configured([
    'crypto isakmp policy 20', ' encryption 3des', ' hash md5', ' authentication pre-share', ' group 2', 'exit',
    'crypto isakmp policy 10', ' encryption aes 256', ' authentication pre-share', ' lifetime 180', 'exit',
    'crypto isakmp key cisco123 address 10.0.110.1',
    'crypto isakmp key other456 address 10.9.0.0 255.255.0.0',
    'crypto keyring keyring1', ' pre-shared-key address 10.0.0.1 key vpnkey', ' local-address 10.0.0.2', 'exit',
    'crypto isakmp profile profile1', ' keyring keyring1', ' match identity address 10.0.0.0 255.255.255.0', ' self-identity fqdn', 'exit',
  ]);
  const pol = policiesFrom(cfg);
  t.same(pol.slice(0, 2).map((p) => [p.priority, p.encryption, p.hash, p.group, p.lifetimeSec]), [[10, 'aes256', 'sha', 1, 180], [20, '3des', 'md5', 2, 86400]]);
  t.equal(pol.length, 2 + 8, 'IOS default suites follow');
  cfg.isakmpGlobals.defaultPolicy = false;
  t.equal(policiesFrom(cfg).length, 2, 'no crypto isakmp default policy');
  const pc = peerConfigFrom(cfg);
  t.same(pc.globalKeys, [{ key: 'cisco123', address: '10.0.110.1', mask: '255.255.255.255' }, { key: 'other456', address: '10.9.0.0', mask: '255.255.0.0' }]);
  t.equal(pc.keyrings[0]?.name, 'keyring1');
  t.same(pc.keyrings[0]?.localAddress, { address: '10.0.0.2' });
  t.equal(pc.keyrings[0]?.keys[0]?.key, 'vpnkey');
  t.same(pc.profiles[0], { name: 'profile1', keyrings: ['keyring1'], match: [{ kind: 'address', address: '10.0.0.0', mask: '255.255.255.0' }], selfIdentity: 'fqdn' });
});

t.test('transform sets and flows', async (t) => {
  const { cfg } = await configured([
    'crypto ipsec transform-set aasset esp-aes 256 esp-sha-hmac', ' mode transport', 'exit',
    'crypto ipsec transform-set md esp-3des esp-md5-hmac', 'exit',
    'crypto ipsec transform-set gcm esp-gcm 256', 'exit',
    'access-list 120 permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255',
    'crypto map aesmap 10 ipsec-isakmp', ' set peer 10.0.110.1', ' set transform-set aasset md gcm', ' match address 120', ' set pfs group14', 'exit',
  ]);
  t.same(toV1TransformSet(cfg.transformSets.aasset!), { name: 'aasset', mode: 'transport', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' } });
  t.same(toV1TransformSet(cfg.transformSets.md!), { name: 'md', mode: 'tunnel', esp: { cipher: 'esp-3des', integrity: 'md5' } });
  t.equal(toV1TransformSet(cfg.transformSets.gcm!), undefined, 'GCM is not offered over IKEv1 here');
  const r = resolveCryptoMapSet(cfg, 'aesmap')[0]!;
  t.equal(r.pfsGroup, 14);
  const net = { addr: '10.1.0.0', prefixLen: 24, protocol: 0, port: 0 };
  const net2 = { addr: '10.2.0.0', prefixLen: 24, protocol: 0, port: 0 };
  t.same(setsForFlow(r, net, net2).map((s) => [s.name, s.mode]), [['aasset', 'tunnel'], ['md', 'tunnel']], 'transport falls back to tunnel for subnets');
  const h1 = { addr: '10.0.110.2', prefixLen: 32, protocol: 0, port: 0 };
  const h2 = { addr: '10.0.110.1', prefixLen: 32, protocol: 0, port: 0 };
  t.equal(setsForFlow(r, h1, h2)[0]!.mode, 'transport', 'host to host keeps transport');
  t.same(addrToSel(prefixAddr('10.1.0.0', 24), 6, { lo: 80, hi: 80 }), { addr: '10.1.0.0', prefixLen: 24, protocol: 6, port: 80 });
  t.same(addrToSel(prefixAddr('10.1.0.0', 24), 0, { lo: 0, hi: 65535 }), { addr: '10.1.0.0', prefixLen: 24, protocol: 0, port: 0 });
  t.equal(selectorKey(selsToTraffic(net, net2)), selectorKey(selsToTraffic({ ...net }, { ...net2 })));
  t.equal(flowText(net, net2), 'permit ip 10.1.0.0/255.255.255.0 10.2.0.0/255.255.255.0');
  t.equal(flowText({ ...h1, protocol: 6 }, h2), 'permit tcp host 10.0.110.2 host 10.0.110.1');
});
