import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { TOR_SERVER_BIN, WAIT_MS, eventually, runNode, scratchDir, within, type Owner } from 'test-support';
import { TEMP_DIR_NAME, TorServer, createLogger, type Logger, type ServerConfig } from '../src/server/index.js';

export interface TestServer {
  server: TorServer;
  dir: string;
  port: number;
}

/** Starts an in-process server on 127.0.0.1, port 0, serving a fresh scratch folder (or `options.dir`). */
export async function startServer(t: Owner, options: Partial<ServerConfig> & { logger?: Logger } = {}): Promise<TestServer> {
  const dir = options.dir ?? (await scratchDir(t, 'tor-test-'));
  // Tokens live apart from the served folder, in a scratch folder of their own unless a test shares one.
  const stateDir = options.stateDir ?? path.join(await scratchDir(t, 'tor-state-'), 'state');
  const server = await TorServer.start({ ...options, host: '127.0.0.1', port: 0, dir, stateDir });
  t.after(() => within(server.close(0), WAIT_MS, 'server.close()'));
  return { server, dir, port: server.address().port };
}

/** A real logger whose lines are kept in memory, for tests that look at what an in-process server logged. */
export function memoryLogger(level: 'debug' | 'info' | 'warn' = 'info'): { logger: Logger; lines: string[]; text(): string } {
  const lines: string[] = [];
  return { logger: createLogger(level, (line) => lines.push(line)), lines, text: () => lines.join('') };
}

/** The visible (non-hidden) entries of a folder, sorted. */
export async function visibleNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.startsWith('.')).sort();
}

/** Waits until the server's hidden temp folder holds no upload in progress. */
export async function tempFolderEmpty(dir: string): Promise<void> {
  await eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 0, `${TEMP_DIR_NAME} is empty`);
}

/** Deterministic pseudo-random bytes (a seeded xorshift), so failures reproduce. */
export function patternBytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A raw TFTCP peer: sends exact bytes and reads reply lines or raw bytes, every read bounded by
 * a timeout. Lines are returned without their LF, so any stray CR would show in assertions.
 */
export class LineClient {
  readonly socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #ended = false;
  #closed: Promise<void>;
  #wake: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    // Not events.once: it rejects on 'error', and a reset is an outcome here, not a failure.
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    // A reset from the server is an outcome tests look at, not a crash.
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#notify();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#notify();
    });
  }

  /**
   * Connects to 127.0.0.1:port, from `from` when given (another loopback address such as
   * 127.0.0.2 plays a second machine); destroyed when the test ends.
   */
  static async connect(t: TestContext, port: number, from?: string): Promise<LineClient> {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: from });
    t.after(() => socket.destroy());
    await within(once(socket, 'connect'), WAIT_MS, `connecting to port ${port}`);
    return new LineClient(socket);
  }

  /** Sends a string or bytes as is. */
  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Reads the next line (without LF). */
  async line(ms = WAIT_MS): Promise<string> {
    await this.#until(() => this.#buffer.indexOf(0x0a) !== -1, ms, 'a reply line');
    const end = this.#buffer.indexOf(0x0a);
    const line = this.#buffer.subarray(0, end).toString('utf8');
    this.#buffer = this.#buffer.subarray(end + 1);
    return line;
  }

  /** Reads the next `count` lines. */
  async lines(count: number, ms = WAIT_MS): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(await this.line(ms));
    return out;
  }

  /** Sends a command line and reads one reply line. */
  async request(command: string, ms = WAIT_MS): Promise<string> {
    this.send(`${command}\n`);
    return this.line(ms);
  }

  /** Reads a listing after `ok` up to and including `end`, returning the rows between them. */
  async listing(ms = WAIT_MS): Promise<string[]> {
    const rows: string[] = [];
    for (let line = await this.line(ms); line !== 'end'; line = await this.line(ms)) rows.push(line);
    return rows;
  }

  /** Reads exactly `count` raw bytes. */
  async bytes(count: number, ms = WAIT_MS): Promise<Buffer> {
    await this.#until(() => this.#buffer.length >= count, ms, `${count} bytes`);
    const out = this.#buffer.subarray(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return Buffer.from(out);
  }

  /** Waits until the server has ended the connection; returns whatever it sent that was not read yet. */
  async rest(ms = WAIT_MS): Promise<string> {
    await this.#until(() => this.#ended, ms, 'the server to close the connection');
    const text = this.#buffer.toString('utf8');
    this.#buffer = Buffer.alloc(0);
    return text;
  }

  /** Resolves once the socket is fully closed. */
  closed(ms = WAIT_MS): Promise<void> {
    return within(this.#closed, ms, 'the connection to close');
  }

  /** True once the server ended the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Uploads `data` as `name` and returns the final reply (`end` or an error line); other replies are asserted by the caller. */
  async upload(name: string, data: Buffer, ms = WAIT_MS): Promise<string[]> {
    const replies = [await this.request(`upload ${name}`, ms)];
    if (replies[0] !== 'ok') return replies;
    replies.push(await this.request(String(data.length), ms));
    if (replies[1] !== 'ok') return replies;
    this.send(data);
    replies.push(await this.line(ms));
    return replies;
  }

  /** Downloads `name` (or a `range` when given) and returns the bytes; throws with the replies when it is not found. */
  async download(command: string, ms = WAIT_MS): Promise<Buffer> {
    const ok = await this.request(command, ms);
    const found = await this.line(ms);
    if (ok !== 'ok' || found !== 'found') throw new Error(`${command}: got ${JSON.stringify([ok, found])}`);
    const size = Number(await this.line(ms));
    return this.bytes(size, ms);
  }

  /** Cuts the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  async #until(ready: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!ready()) {
      if (this.#ended) throw new Error(`the connection closed while waiting for ${what}; unread: ${JSON.stringify(this.#buffer.toString('utf8').slice(0, 200))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms; unread: ${JSON.stringify(this.#buffer.toString('utf8').slice(0, 200))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  #notify(): void {
    this.#wake?.();
  }
}

/** Runs the bin to completion (for flags that make it exit) and returns its exit code and output. */
export function runBin(t: TestContext, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  return runNode(t, TOR_SERVER_BIN, { args, env, ms: WAIT_MS });
}

/**
 * Starts an upload of `data` as `name`, sends its first `sent` bytes, and waits until the server
 * has written some of them into its temp folder, so whatever the test does next lands mid-file.
 */
export async function partialUpload(t: TestContext, port: number, dir: string, name: string, data: Buffer, sent: number): Promise<{ uploader: LineClient; partial: string }> {
  const uploader = await LineClient.connect(t, port);
  assert.equal(await uploader.request(`upload ${name}`), 'ok');
  assert.equal(await uploader.request(String(data.length)), 'ok');
  uploader.send(data.subarray(0, sent));
  const tempFolder = path.join(dir, TEMP_DIR_NAME);
  await eventually(async () => {
    const parts = await readdir(tempFolder);
    return parts.length === 1 && (await stat(path.join(tempFolder, parts[0]!))).size > 0;
  }, 'a partial upload on disk');
  return { uploader, partial: (await readdir(tempFolder))[0]! };
}
