/**
 * The small-files load: `connections` kept-alive HTTP/1.1 connections on bare sockets, each
 * sending the next GET as soon as the last answer is in, for a fixed time after a warm-up. The
 * same generator runs against nginx and the gateway, so their figures compare.
 */
import { once } from 'node:events';
import net from 'node:net';
import { percentile } from 'test-support/bench';

export interface LoadOptions {
  connections: number;
  /** Requests in this first stretch are made but not counted (connections opened, caches warm). */
  warmupMs: number;
  /** The counted stretch after the warm-up. */
  durationMs: number;
}

export interface LoadResult {
  /** Correct answers (200 with the expected body) completed in the counted stretch, per second. */
  perSecond: number;
  /** Per-request times of those answers, in ms. */
  p50: number;
  p99: number;
  /** Wrong answers or broken connections in the whole run. */
  errors: number;
}

const OK = 200;
/** Longest answer head read before it counts as an error: an answer this lean never comes near it. */
const MAX_HEAD_BYTES = 16 * 1024;
/** Broken connections or wrong answers after which the load stops: the target is failing, not slow. */
const MAX_ERRORS = 100;

/** Keeps `options.connections` connections busy GETting `url`, whose body must equal `expected`. */
export async function keepAliveLoad(url: string, expected: Buffer, options: LoadOptions): Promise<LoadResult> {
  const { hostname, port, pathname } = new URL(url);
  const request = Buffer.from(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`, 'latin1');
  const started = performance.now();
  const countFrom = started + options.warmupMs;
  const stopAt = countFrom + options.durationMs;
  const times: number[] = [];
  let errors = 0;
  let lastError = '';
  const worker = async () => {
    while (performance.now() < stopAt && errors < MAX_ERRORS) {
      const connection = await KeepAliveConnection.open(Number(port), hostname, expected.length).catch((error: Error) => error);
      if (connection instanceof Error) {
        errors++;
        lastError = connection.message;
        continue;
      }
      try {
        while (performance.now() < stopAt) {
          const began = performance.now();
          const answer = await connection.get(request);
          const ended = performance.now();
          if (answer.status !== OK || !answer.body.equals(expected)) throw new Error(`GET ${url} answered ${answer.status} with ${answer.body.length} bytes`);
          if (began >= countFrom && ended <= stopAt) times.push(ended - began);
        }
      } catch (error) {
        errors++;
        lastError = (error as Error).message;
      } finally {
        connection.close();
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  if (errors >= MAX_ERRORS || times.length === 0) throw new Error(`the load on ${url} failed ${errors} times; the last: ${lastError}`);
  return { perSecond: times.length / (options.durationMs / 1000), p50: percentile(times, 0.5), p99: percentile(times, 0.99), errors };
}

/** One kept-alive connection that sends a request and reads its answer (Content-Length bodies only), one at a time. */
class KeepAliveConnection {
  readonly #socket: net.Socket;
  readonly #maxBodyBytes: number;
  #buffer: Buffer = Buffer.alloc(0);
  /** Why the connection ended, once it has: a request after that fails at once instead of waiting forever. */
  #ended: Error | undefined;
  #waiting: { resolve: (answer: { status: number; body: Buffer }) => void; reject: (error: Error) => void } | undefined;

  private constructor(socket: net.Socket, maxBodyBytes: number) {
    this.#socket = socket;
    this.#maxBodyBytes = maxBodyBytes;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    socket.on('error', (error) => this.#fail(error));
    socket.on('close', () => this.#fail(new Error('the server closed the connection')));
  }

  /** Connects; an answer with a body over `maxBodyBytes` fails instead of being buffered. */
  static async open(port: number, host: string, maxBodyBytes: number): Promise<KeepAliveConnection> {
    const socket = net.connect(port, host);
    await once(socket, 'connect');
    return new KeepAliveConnection(socket, maxBodyBytes);
  }

  get(request: Buffer): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      if (this.#ended) return reject(this.#ended);
      this.#waiting = { resolve, reject };
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #parse(): void {
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end === -1) {
      if (this.#buffer.length > MAX_HEAD_BYTES) this.#fail(new Error(`no end of the answer's head within ${MAX_HEAD_BYTES} bytes`));
      return;
    }
    const head = this.#buffer.subarray(0, end).toString('latin1');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
    if (!Number.isSafeInteger(length)) return this.#fail(new Error(`an answer without Content-Length: ${head.split('\r\n')[0]}`));
    if (length > this.#maxBodyBytes) return this.#fail(new Error(`an answer of ${length} bytes, more than the ${this.#maxBodyBytes} expected`));
    const bodyEnd = end + 4 + length;
    if (this.#buffer.length < bodyEnd) return;
    const body = this.#buffer.subarray(end + 4, bodyEnd);
    this.#buffer = this.#buffer.subarray(bodyEnd);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve({ status, body });
  }

  #fail(error: Error): void {
    this.#ended ??= error;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
    this.#socket.destroy();
  }
}
