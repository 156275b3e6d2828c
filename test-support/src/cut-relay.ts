import { once } from 'node:events';
import net from 'node:net';
import { pairWith } from './relay.js';

/**
 * A TCP relay that cuts its connections as a flaky network does: every time `cutEvery` more
 * bytes have gone from clients to the target, every open connection is destroyed (both
 * sides); new connections are relayed again. Counts the bytes clients sent, so a test or a
 * bench can tell how many were sent twice.
 */
export class CutRelay {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  /** Bytes relayed from clients to the target so far. */
  bytesUp = 0;
  /** Times the connections were cut. */
  cuts = 0;
  /** Cut after this many more bytes up; Infinity: never. */
  cutEvery: number;
  #sinceCut = 0;

  private constructor(server: net.Server, cutEvery: number) {
    this.#server = server;
    this.cutEvery = cutEvery;
  }

  /** Listens on 127.0.0.1 (a free port), relaying to `targetPort`; closed when `owner` ends. */
  static async start(owner: { after(fn: () => unknown): void }, targetPort: number, cutEvery = Infinity): Promise<CutRelay> {
    const relay: CutRelay = new CutRelay(net.createServer((client) => relay.#relay(client, targetPort)), cutEvery);
    relay.#server.listen(0, '127.0.0.1');
    await once(relay.#server, 'listening');
    owner.after(() => relay.close());
    return relay;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Destroys every relayed connection now. */
  cutAll(): void {
    this.cuts += 1;
    this.#sinceCut = 0;
    for (const socket of this.#sockets) socket.destroy();
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #relay(client: net.Socket, targetPort: number): void {
    const target = pairWith(client, targetPort, this.#sockets);
    client.on('data', (chunk: Buffer) => {
      // Past the cut point, only the bytes before it go through: the rest never reached the target.
      const room = this.cutEvery - this.#sinceCut;
      const sent = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.bytesUp += sent.length;
      this.#sinceCut += sent.length;
      if (sent.length > 0 && !target.write(sent)) client.pause();
      if (this.#sinceCut >= this.cutEvery) this.cutAll();
    });
    target.on('drain', () => client.resume());
    target.on('data', (chunk: Buffer) => {
      if (!client.write(chunk)) target.pause();
    });
    client.on('drain', () => target.resume());
  }
}
