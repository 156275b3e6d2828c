/**
 * Many small files: `clients` kept-alive HTTP/1.1 connections each fetching one small file
 * again and again, one request at a time, for a fixed number of requests. Gives requests per
 * second and the p50/p99 latency of one GET. The client is a bare socket that reads the status
 * line, Content-Length and the body, no more, so the figure is the server's, not Node's HTTP
 * client's. Used by bench.ts; also runs alone against any URL
 * (`node --import tsx bench/small-files.ts http://127.0.0.1:8080/api/files/small.bin [clients] [requests]`),
 * so the gateway and nginx (or another checkout's gateway) can be measured in turns.
 */
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SMALL_FILE_CLIENTS = 16;
const DEFAULT_REQUESTS = 20_000;
// Requests on each connection before timing starts: connections, pools and JIT warm up.
const WARMUP_PER_CLIENT = 50;
// A response head larger than this is not what this bench expects.
const MAX_HEAD_BYTES = 16 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

export interface SmallFilesResult {
  rps: number;
  p50: number;
  p99: number;
}

/** `requests` GETs of `url` (a file of `size` bytes) spread over `clients` connections; rps and latency in ms. */
export async function smallFiles(url: string, size: number, clients = SMALL_FILE_CLIENTS, requests = DEFAULT_REQUESTS): Promise<SmallFilesResult> {
  const { hostname, port, pathname } = new URL(url);
  const request = Buffer.from(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
  const connections = await Promise.all(Array.from({ length: clients }, () => KeptAlive.open(hostname, Number(port), request, size)));
  try {
    await Promise.all(connections.map((c) => c.run(WARMUP_PER_CLIENT)));
    const started = performance.now();
    const perClient = Math.ceil(requests / clients);
    const times = (await Promise.all(connections.map((c) => c.run(perClient)))).flat();
    const ms = performance.now() - started;
    times.sort((a, b) => a - b);
    return { rps: (times.length / ms) * 1000, p50: times[Math.floor(times.length / 2)]!, p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]! };
  } finally {
    for (const c of connections) c.close();
  }
}

/** One kept-alive connection sending the same GET again and again, each after the last answer. */
class KeptAlive {
  readonly #socket: net.Socket;
  readonly #request: Buffer;
  readonly #size: number;
  #head: Buffer = Buffer.alloc(0);
  #bodyLeft = -1;
  #answered: (() => void) | undefined;
  #failed: ((error: Error) => void) | undefined;

  private constructor(socket: net.Socket, request: Buffer, size: number) {
    this.#socket = socket;
    this.#request = request;
    this.#size = size;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#take(chunk));
    socket.on('error', (error) => this.#failed?.(error));
    socket.on('close', () => this.#failed?.(new Error('the server closed a kept-alive connection')));
  }

  static async open(host: string, port: number, request: Buffer, size: number): Promise<KeptAlive> {
    const socket = net.connect(port, host);
    await once(socket, 'connect');
    return new KeptAlive(socket, request, size);
  }

  /** Sends `count` requests one after another; the latency of each in ms. */
  async run(count: number): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const began = performance.now();
      await new Promise<void>((resolve, reject) => {
        this.#answered = resolve;
        this.#failed = reject;
        this.#socket.write(this.#request);
      });
      times.push(performance.now() - began);
    }
    return times;
  }

  close(): void {
    this.#failed = undefined;
    this.#socket.destroy();
  }

  #take(chunk: Buffer): void {
    if (this.#bodyLeft < 0) {
      this.#head = this.#head.length === 0 ? chunk : Buffer.concat([this.#head, chunk]);
      const end = this.#head.indexOf(HEAD_END);
      if (end === -1) {
        if (this.#head.length > MAX_HEAD_BYTES) this.#failed?.(new Error('a response head larger than 16 KiB'));
        return;
      }
      const head = this.#head.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 200 ')) return this.#failed?.(new Error(`answered ${head.split('\r\n')[0]}`));
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? -1);
      if (length !== this.#size) return this.#failed?.(new Error(`Content-Length ${length}, expected ${this.#size}`));
      this.#bodyLeft = length;
      chunk = this.#head.subarray(end + HEAD_END.length);
      this.#head = Buffer.alloc(0);
    }
    this.#bodyLeft -= chunk.length;
    if (this.#bodyLeft > 0) return;
    if (this.#bodyLeft < 0) return this.#failed?.(new Error('more bytes than Content-Length'));
    this.#bodyLeft = -1;
    this.#answered?.();
  }
}

async function main(): Promise<void> {
  const [url, clients, requests] = process.argv.slice(2);
  if (!url) throw new Error('usage: small-files.ts <url of a small file> [clients] [requests]');
  const probe = await fetch(url);
  const size = (await probe.arrayBuffer()).byteLength;
  const result = await smallFiles(url, size, Number(clients ?? SMALL_FILE_CLIENTS), Number(requests ?? DEFAULT_REQUESTS));
  process.stdout.write(`${result.rps.toFixed(0)} rps p50 ${result.p50.toFixed(2)} ms p99 ${result.p99.toFixed(2)} ms\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) await main();
