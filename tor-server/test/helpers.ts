import assert from 'node:assert/strict';
import { once } from 'node:events';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readdir, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { TOR_SERVER_BIN, WAIT_MS, eventually, runNode, s3Bucket, s3Engine, scratchDir, within, type Owner } from 'test-support';
import { TEMP_DIR_NAME, TorServer, createLogger, type Logger, type ServerConfig } from '../src/server/index.js';
import { normalPrefix } from '../src/server/store/s3/s3-settings.js';
import { toFileName } from '../src/server/store/store.js';

export interface TestServer {
  server: TorServer;
  /** The served folder; on the S3 store, only its local work folder. */
  dir: string;
  port: number;
}

/**
 * The store the protocol tests run on: `fs`, or `s3` when TOR_TEST_STORE=s3 (`npm run test:s3`
 * runs the conformance files so, on the engine S3_ENDPOINT names).
 */
export const TEST_STORE: 'fs' | 's3' = process.env.TOR_TEST_STORE === 's3' ? 's3' : 'fs';

/** For a test that looks at the served folder on disk: the reason it is skipped on the S3 store. */
export const FOLDER_ONLY = TEST_STORE === 's3' ? 'looks at the served folder on disk (fs store only)' : false;

/** The settings that put a server on a new bucket of its own on the test engine (deleted after the test). */
export async function s3StoreOptions(t: Owner): Promise<Partial<ServerConfig>> {
  const engine = s3Engine({ quiet: true });
  if (!engine) throw new Error('the S3 store needs an engine: set S3_ENDPOINT (scripts/s3-engine/start.sh)');
  // The in-process server's SDK reads its credentials from the standard variables, as the program does.
  Object.assign(process.env, engine.env);
  return { store: 's3', s3Endpoint: engine.endpoint, s3Bucket: await s3Bucket(t, engine), s3Region: engine.region };
}

/** The bytes the server's store holds under `name` (read through the store, so on either store); throws when there is no such file. */
export async function storedBytes(server: TorServer, name: string): Promise<Buffer> {
  const checked = toFileName(name);
  if (checked.problem !== undefined) throw new Error(checked.problem);
  const file = await server.store.openRead(checked.name);
  if (!file) throw Object.assign(new Error(`no file ${name} in the store`), { code: 'ENOENT' });
  const chunks: Buffer[] = [];
  for await (const chunk of file.read(0, file.size)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Waits until no upload holds `name` any more (a cut upload's clean-up runs on after its connection closed). */
export async function nameFreed(server: TorServer, name: string): Promise<void> {
  const checked = toFileName(name);
  if (checked.problem !== undefined) throw new Error(checked.problem);
  await eventually(async () => {
    const free = await server.store.reserve(checked.name).then(
      () => true,
      () => false,
    );
    if (free) server.store.release(checked.name);
    return free;
  }, `${name} to be free again`);
}

/** The names the server's store lists, sorted (on either store). */
export async function storedNames(server: TorServer): Promise<string[]> {
  return (await server.store.list()).map((entry) => entry.name);
}

/** The listing row a file should have, from the store's backend directly (the folder's stat, or the object's HEAD). */
export async function storedRow(server: TorServer, name: string): Promise<string> {
  const { config } = server;
  if (config.store === 'fs') {
    const s = await stat(path.join(config.dir, name));
    return `${name}\t${s.size}\t${s.mtime.toISOString()}`;
  }
  const head = await s3Engine()!.client.send(new HeadObjectCommand({ Bucket: config.s3Bucket, Key: normalPrefix(config.s3Prefix) + name }));
  return `${name}\t${head.ContentLength}\t${head.LastModified!.toISOString()}`;
}

/** Puts a file into the store behind the server's back, as an operator or another program would: into the folder, or the bucket. */
export async function placeFile(server: TorServer, name: string, data: Buffer | string): Promise<void> {
  const { config } = server;
  if (config.store === 'fs') return writeFile(path.join(config.dir, name), data);
  const engine = s3Engine()!;
  const body = Buffer.from(data);
  await engine.client.send(new PutObjectCommand({ Bucket: config.s3Bucket, Key: normalPrefix(config.s3Prefix) + name, Body: body, ContentLength: body.length }));
}

/** Starts an in-process server on 127.0.0.1, port 0, serving a fresh scratch folder (or `options.dir`), or a new bucket on the S3 store (TEST_STORE). */
export async function startServer(t: Owner, options: Partial<ServerConfig> & { logger?: Logger } = {}): Promise<TestServer> {
  const dir = options.dir ?? (await scratchDir(t, 'tor-test-'));
  // Tokens live apart from the served folder, in a scratch folder of their own unless a test shares one.
  const stateDir = options.stateDir ?? path.join(await scratchDir(t, 'tor-state-'), 'state');
  const store = options.store === undefined && TEST_STORE === 's3' ? await s3StoreOptions(t) : {};
  const server = await TorServer.start({ ...store, ...options, host: '127.0.0.1', port: 0, dir, stateDir });
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

/** A seeded xorshift giving numbers in [0, 1), so a failing run reproduces from its seed. */
export function seededRandom(seed: number): () => number {
  let x = seed || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
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
