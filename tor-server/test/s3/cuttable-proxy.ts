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
        from.pipe(to);
      }
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

  /** The engine is back. */
  up(): void {
    this.#down = false;
  }

  close(): Promise<void> {
    this.down();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
