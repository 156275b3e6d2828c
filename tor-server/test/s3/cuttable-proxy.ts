import net from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A TCP proxy in front of the S3 engine that a test can take down (every connection cut, new
 * ones reset at once, as a stopped engine behaves) and bring back, without touching the engine
 * other tests share.
 */
export class CuttableProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #down = false;
  /** Requests starting with this (`PUT `) are taken and never answered: a hung engine. */
  #stallPrefix: string | undefined;
  /** Whether a stalled request still reaches the engine (done there, only its answer lost). */
  #stallApplied = false;
  #stalledOpen = 0;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** Starts a proxy on 127.0.0.1 to `target` (an http://host:port URL); closed when the test ends. */
  static async start(t: TestContext, target: string): Promise<CuttableProxy> {
    const { hostname, port } = new URL(target);
    let proxy: CuttableProxy | undefined;
    const server = net.createServer((client) => {
      if (!proxy || proxy.#down) return client.resetAndDestroy();
      const upstream = net.connect(Number(port), hostname);
      let stalled = false;
      for (const [from, to] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        proxy.#sockets.add(from);
        from.on('error', () => to.destroy());
        from.on('close', () => {
          proxy!.#sockets.delete(from);
          to.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => {
        // A stalled connection stays stalled: the engine hung in the middle of that request.
        if (!stalled && proxy!.#stallPrefix !== undefined && chunk.subarray(0, proxy!.#stallPrefix.length).toString('latin1') === proxy!.#stallPrefix) {
          stalled = true;
          proxy!.#stalledOpen++;
          client.once('close', () => proxy!.#stalledOpen--);
          if (proxy!.#stallApplied) upstream.unpipe(client);
        }
        if (stalled && !proxy!.#stallApplied) return;
        if (!upstream.write(chunk)) {
          client.pause();
          upstream.once('drain', () => client.resume());
        }
      });
      upstream.pipe(client);
    });
    proxy = new CuttableProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => proxy.close());
    return proxy;
  }

  /** The proxy's URL, as an S3 endpoint. */
  get url(): string {
    const { port } = this.#server.address() as net.AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The engine is "stopped": every connection is cut, and new ones are reset. */
  down(): void {
    this.#down = true;
    for (const socket of this.#sockets) socket.resetAndDestroy();
  }

  /** Connections open now whose request was stalled (and not yet given up by the client). */
  get stalledOpen(): number {
    return this.#stalledOpen;
  }

  /** The engine is back (and answers every request again). */
  up(): void {
    this.#down = false;
    this.#stallPrefix = undefined;
  }

  /**
   * The engine hangs on requests starting with `prefix` (`PUT ` for uploads, copies and claims):
   * the connection stays open, the request is taken and never answered (`applied`: it reaches the
   * engine, which does it; only the answer is lost). Others go through.
   */
  stall(prefix: string, options: { applied: boolean } = { applied: false }): void {
    this.#stallPrefix = prefix;
    this.#stallApplied = options.applied;
  }

  close(): Promise<void> {
    this.down();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
