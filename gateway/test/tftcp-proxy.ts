import { once } from 'node:events';
import net from 'node:net';
import { pairWith } from 'test-support';

/**
 * A TCP relay in front of a tor-server that reads the command lines clients send (the first
 * word of each line) and counts connections, so a test can see what the gateway asks its
 * tor-server. For exchanges without upload bytes: an upload's raw bytes would be read as lines.
 */
export class TftcpProxy {
  readonly server: net.Server;
  /** The first word of every command line, in the order they arrived. */
  readonly commands: string[] = [];
  /** Every command line whole, in the order they arrived. */
  readonly lines: string[] = [];
  /** Connections accepted so far. */
  connections = 0;
  readonly #sockets = new Set<net.Socket>();

  private constructor(server: net.Server) {
    this.server = server;
  }

  /** Listens on 127.0.0.1 (a free port), relaying to the tor-server on `torPort`; closed when the test ends. */
  static async start(t: { after(fn: () => unknown): void }, torPort: number): Promise<TftcpProxy> {
    const proxy: TftcpProxy = new TftcpProxy(net.createServer((client) => proxy.#relay(client, torPort)));
    proxy.server.listen(0, '127.0.0.1');
    await once(proxy.server, 'listening');
    t.after(() => proxy.close());
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** How many of the commands seen so far are `word`. */
  count(word: string): number {
    return this.commands.filter((command) => command === word).length;
  }

  /** Cuts every relayed connection, as a network failure would; new connections are still relayed. */
  cutAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  #relay(client: net.Socket, torPort: number): void {
    this.connections++;
    const upstream = pairWith(client, torPort, this.#sockets);
    let pending = '';
    client.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const line = pending.slice(0, end).replace(/\r$/, '');
        this.lines.push(line);
        this.commands.push(line.split(/[ \t]/)[0]!);
        pending = pending.slice(end + 1);
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
