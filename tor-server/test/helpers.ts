import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEMP_DIR_NAME, TorServer, createLogger, type Logger, type ServerConfig } from '../src/server/index.js';

/** The longest any single wait in a test may take before the test fails instead of hanging. */
export const WAIT_MS = 5000;

/** The built server bin; tests that spawn it need `npm run build -w tor-server` first. */
export const SERVER_BIN = path.resolve(import.meta.dirname, '../dist/bin/tor-server.js');

/** Rejects when `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms = WAIT_MS, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true; fails after `ms`. For effects that land just after a socket closes. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: still not true after ${ms} ms`);
    await sleep(20);
  }
}

/** A scratch folder removed when the test ends. */
export async function tempDir(t: TestContext, prefix = 'tor-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TestServer {
  server: TorServer;
  dir: string;
  port: number;
}

/** Starts an in-process server on 127.0.0.1, port 0, serving a fresh scratch folder (or `options.dir`). */
export async function startServer(t: TestContext, options: Partial<ServerConfig> & { logger?: Logger } = {}): Promise<TestServer> {
  const dir = options.dir ?? (await tempDir(t));
  const server = await TorServer.start({ ...options, host: '127.0.0.1', port: 0, dir });
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
export function tempFolderEmpty(dir: string): Promise<void> {
  return eventually(async () => (await readdir(path.join(dir, TEMP_DIR_NAME))).length === 0, `${TEMP_DIR_NAME} is empty`);
}

/** Hex sha256 of some bytes. */
export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
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
    await this.#waitFor(() => this.#buffer.indexOf(0x0a) !== -1, ms, 'a reply line');
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
    await this.#waitFor(() => this.#buffer.length >= count, ms, `${count} bytes`);
    const out = this.#buffer.subarray(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return Buffer.from(out);
  }

  /** Waits until the server has ended the connection; returns whatever it sent that was not read yet. */
  async rest(ms = WAIT_MS): Promise<string> {
    await this.#waitFor(() => this.#ended, ms, 'the server to close the connection');
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

  async #waitFor(ready: () => boolean, ms: number, what: string): Promise<void> {
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

export interface SpawnedServer {
  child: ChildProcess;
  port: number;
  /** The absolute folder the server said it serves. */
  servedDir: string;
  /** Everything printed to stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** Spawns the built bin with `args`, waits for its `listening` line and parses the port; killed when the test ends. */
export async function spawnServer(t: TestContext, args: string[], env: NodeJS.ProcessEnv = {}): Promise<SpawnedServer> {
  const { child, stdout, stderr, exited } = spawnBin(t, args, env);
  const lines = readline.createInterface({ input: child.stdout! });
  const firstLine = within(
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      void exited.then((code) => reject(new Error(`tor-server exited (${code}) before listening: ${stderr()}`)));
    }),
    WAIT_MS,
    'tor-server to print its listening line',
  );
  const line = await firstLine;
  lines.close();
  // Closing readline pauses its input; keep the stdout collector flowing.
  child.stdout!.resume();
  const match = /^tor-server listening on (.+):(\d+), serving (.+)$/.exec(line);
  if (!match) throw new Error(`unexpected first line: ${JSON.stringify(line)}`);
  return { child, port: Number(match[2]), servedDir: match[3]!, stdout, stderr, exited };
}

/** Runs the bin to completion (for flags that make it exit) and returns its exit code and output. */
export async function runBin(t: TestContext, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const { stdout, stderr, exited } = spawnBin(t, args, env);
  const code = await within(exited, WAIT_MS, 'tor-server to exit');
  return { code, stdout: stdout(), stderr: stderr() };
}

function spawnBin(t: TestContext, args: string[], env: NodeJS.ProcessEnv) {
  // Start from a clean TOR_* environment so the developer's shell cannot change the outcome.
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TOR_')));
  const child = spawn(process.execPath, [SERVER_BIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (out += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (err += text));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exited };
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
