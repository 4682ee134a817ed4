// Port 4500 is shared: IKE and the data plane subscribe to their kinds on one socket,
// which opens on first use and closes with its last user.
import t from 'tap';
import { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import { FakeNetwork } from '../../firmware/dataplane/packet-io-fake.js';

t.test('one socket per address and port, kinds to their subscribers', async (t) => {
  const net = new FakeNetwork();
  let opened = 0;
  const reg = new BindRegistry(async (address, port, encap) => {
    opened++;
    return net.bind(encap ? 'udp-encap' : 'udp', { address, port });
  });
  const ike = await reg.udp('10.0.0.1', 4500, true);
  const esp = await reg.udp('10.0.0.1', 4500, true);
  t.equal(opened, 1, 'the second user gets the same socket');
  const got: string[] = [];
  ike.subscribe(['ike'], (kind) => got.push(`ike:${kind}`));
  esp.subscribe(['esp', 'keepalive'], (kind) => got.push(`dp:${kind}`));
  const peer = net.bind('udp-encap', { address: '10.0.0.2', port: 4500 });
  peer.send('ike', new Uint8Array(28), { address: '10.0.0.1', port: 4500 });
  peer.send('esp', Uint8Array.of(0, 0, 1, 0, 0, 0, 0, 1, 9, 9), { address: '10.0.0.1', port: 4500 });
  peer.send('keepalive', new Uint8Array(0), { address: '10.0.0.1', port: 4500 });
  await new Promise((r) => setTimeout(r, 20));
  t.same(got.sort(), ['dp:esp', 'dp:keepalive', 'ike:ike']);
  await ike.release();
  await esp.release();
  const again = await reg.udp('10.0.0.1', 4500, true);
  t.equal(opened, 2, 'released by its last user, opened again on the next use');
  await again.release();
});
