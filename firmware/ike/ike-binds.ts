// The UDP 500 and 4500 sockets of one IKE service, on every local address the configuration
// gives it: opened and released as the address list changes, through the box's shared bind
// registry (the data plane takes ESP in UDP from the same 4500 sockets). Both IKE versions
// use this; each keeps only the datagrams of its own version (its `receive`).

export interface IkeEndpoint {
  address: string;
  port: number;
}

/** One shared UDP socket as the IKE services use it (dataplane/bind-registry.ts SharedBind). */
export interface IkeSocket {
  subscribe(kinds: readonly 'ike'[], handler: (kind: string, data: Uint8Array, remote: IkeEndpoint, local: IkeEndpoint) => void): () => void;
  send(kind: 'ike', data: Uint8Array, remote: IkeEndpoint): unknown;
  release(): Promise<void>;
}

/** Opens (or shares) the socket for `address:port`; `encap` on the RFC 3948 port. */
export type IkeSocketOpener = (address: string, port: number, encap: boolean) => Promise<IkeSocket>;

export interface IkeBindsOptions {
  open: IkeSocketOpener;
  /** An IKE datagram on one of the sockets (`port`: the socket's own port). */
  receive(data: Uint8Array, remote: IkeEndpoint, local: IkeEndpoint, port: number): void;
  /** A socket could not be opened (reported once per attempt; the address is tried again at the next reconcile). */
  failed(address: string, port: number, err: Error): void;
}

export const IKE_PORTS = [500, 4500] as const;

export class IkeBinds {
  private readonly binds = new Map<string, Promise<IkeSocket | undefined>>();
  private stopped = false;

  constructor(private readonly o: IkeBindsOptions) {}

  /**
   * Ports 500 and 4500 on exactly these addresses: new ones are opened, others released.
   * Resolves once every socket asked for is open (or has failed).
   */
  async reconcile(addresses: readonly string[]): Promise<void> {
    const want = new Set<string>();
    for (const a of addresses) for (const port of IKE_PORTS) want.add(`${a}|${port}`);
    const released: Promise<unknown>[] = [];
    for (const [key, p] of [...this.binds]) {
      if (want.has(key)) continue;
      this.binds.delete(key);
      released.push(p.then((b) => b?.release(), () => undefined));
    }
    await Promise.all(released);
    const opening: Promise<unknown>[] = [];
    for (const key of want) {
      if (this.binds.has(key) || this.stopped) continue;
      const [address, portText] = key.split('|') as [string, string];
      const port = Number(portText);
      const p = this.o.open(address, port, port === 4500).then((b) => {
        b.subscribe(['ike'], (_kind, data, remote, local) => this.o.receive(data, remote, { address: local.address || address, port: local.port || port }, port));
        return b;
      }, (e: unknown) => {
        this.o.failed(address, port, e as Error);
        if (this.binds.get(key) === p) this.binds.delete(key);
        return undefined;
      });
      this.binds.set(key, p);
      opening.push(p);
    }
    await Promise.all(opening);
  }

  /** Is a socket open (or opening) on `address:port`? */
  has(address: string, port: number): boolean {
    return this.binds.has(`${address}|${port}`);
  }

  /**
   * Sends from `local` (its port's socket, else the address's port 500 socket). false: no
   * socket on that address.
   */
  send(local: IkeEndpoint, data: Uint8Array, remote: IkeEndpoint): boolean {
    const p = this.binds.get(`${local.address}|${local.port}`) ?? this.binds.get(`${local.address}|500`);
    if (!p) return false;
    void p.then((b) => b?.send('ike', data, remote));
    return true;
  }

  /** Releases every socket (service stop). */
  async close(): Promise<void> {
    this.stopped = true;
    const all = [...this.binds.values()];
    this.binds.clear();
    for (const p of all) await p.then((b) => b?.release(), () => undefined);
  }
}
