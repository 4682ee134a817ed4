// Two connected in-memory streams: what one side writes the other reads. The SSH server
// feeds its sessions to the daemon's session host through a pair, exactly as a console
// process does through the unix socket, so every session is served by the same code.
import { Duplex } from 'node:stream';

export function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (peer: () => Duplex): Duplex => new Duplex({
    read() { /* data is pushed by the peer's writes */ },
    write(chunk: Buffer, _enc, cb) {
      const p = peer();
      if (!p.destroyed) p.push(chunk);
      cb();
    },
    final(cb) {
      const p = peer();
      if (!p.destroyed) p.push(null);
      cb();
    },
    destroy(err, cb) {
      const p = peer();
      if (!p.destroyed) p.destroy();
      cb(err);
    },
  });
  sides.push(make(() => sides[1]!), make(() => sides[0]!));
  return [sides[0]!, sides[1]!];
}
