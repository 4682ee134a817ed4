// Socket send/receive rates of the PacketBinds (firmware/dataplane/packet-io.ts), on
// loopback only (127.0.0.1, root namespace: nothing leaves the host):
//   udp-encap-send / udp-encap-recv   1400-byte ESP-in-UDP through two UDP binds
//   raw-esp-send / raw-esp-recv       1400-byte ESP through two raw protocol-50 binds
// Sends are issued in bursts of 64 with a setImmediate between bursts, for a bounded
// count and time; recv counts what the other bind delivered.
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { openUdpBind } from '../../firmware/dataplane/udp-encap-socket.js';
import { openRawBind } from '../../firmware/dataplane/raw-socket.js';
import type { PacketBind } from '../../firmware/dataplane/packet-io.js';

export const meta: BenchModuleMeta = { description: 'UDP 4500 and raw ESP bind packets per second (loopback)', needsRoot: true };

async function pump(name: string, ctx: BenchContext, tx: PacketBind, rx: PacketBind, port: number): Promise<void> {
  let got = 0;
  rx.onPacket(() => { got++; });
  const pkt = new Uint8Array(1400);
  new DataView(pkt.buffer).setUint32(0, 0x12345678);
  const max = 2_000_000;
  const end = performance.now() + Math.min(ctx.seconds, 3) * 1000;
  let sent = 0;
  let errors = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const burst = (): void => {
      for (let i = 0; i < 64; i++) {
        if (tx.send('esp', pkt, { address: '127.0.0.1', port }) === 'ok') sent++;
        else errors++;
      }
      if (sent < max && performance.now() < end) setImmediate(burst);
      else resolve();
    };
    burst();
  });
  const dt = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  ctx.log(`${name}: sent ${sent} (${errors} refused), received ${got}, send errors ${tx.stats.sendErrors}`);
  ctx.report(`${name}-send`, sent / dt, 'pps');
  ctx.report(`${name}-recv`, got / dt, 'pps');
}

export async function run(ctx: BenchContext): Promise<void> {
  const a = await openUdpBind({ address: '127.0.0.1', port: 0, encap: true, recvBufferBytes: 4 << 20, sendBufferBytes: 4 << 20 });
  const b = await openUdpBind({ address: '127.0.0.1', port: 0, encap: true, recvBufferBytes: 4 << 20 });
  try {
    await pump('udp-encap', ctx, a, b, b.local.port);
  } finally {
    await a.close();
    await b.close();
  }
  const r1 = openRawBind({ protocol: 'esp', localAddress: '127.0.0.1' });
  const r2 = openRawBind({ protocol: 'esp', localAddress: '127.0.0.1' });
  try {
    // both raw sockets see every ESP packet on lo; count on one of them
    await pump('raw-esp', ctx, r1, r2, 0);
  } finally {
    await r1.close();
    await r2.close();
  }
}
