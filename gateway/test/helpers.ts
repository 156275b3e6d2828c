import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Response } from 'supertest';
import { TEMP_DIR_NAME, TorServer, type ServerConfig } from 'tor-server/server';
import WebSocket from 'ws';
import { buildApp, gatewayParts, type AppOptions, type GatewayParts } from '../src/app.js';
import type { WsAnswers, WsCommand, WsErrorReply, WsServerMessage } from '../src/api/index.js';

/** Test-friendly bounds: short backoff, short timeouts, no logs. */
export const TEST_APP_DEFAULTS = {
  maxUploadSize: 1024 ** 3,
  logLevel: 'silent',
  upstreamConnectTimeoutMs: 2000,
  upstreamReplyTimeoutMs: 10_000,
  wsMinBackoffMs: 50,
  wsMaxBackoffMs: 200,
} as const;

// GATEWAY_TEST_TOR_SERVER_BIN runs the fault tests against another tor-server build (an older one, to see a test catch its bug).
const TOR_SERVER_BIN = process.env.GATEWAY_TEST_TOR_SERVER_BIN ?? fileURLToPath(new URL('../../tor-server/dist/bin/tor-server.js', import.meta.url));
const GATEWAY_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** Collects clean-ups for a whole describe block: `after(() => scope.close())`. Runs them newest first. */
export class Scope {
  readonly #cleanups: (() => unknown)[] = [];
  after(fn: () => unknown): void {
    this.#cleanups.push(fn);
  }
  async close(): Promise<void> {
    for (const fn of this.#cleanups.reverse()) await fn();
    this.#cleanups.length = 0;
  }
}

/** A fresh scratch folder, removed when the test ends. */
export async function scratchDir(t: { after(fn: () => unknown): void }, prefix = 'gw-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A real tor-server in this process, on a free port, serving a scratch folder. */
export async function startTorServer(t: { after(fn: () => unknown): void }, options: Partial<ServerConfig> = {}): Promise<{ server: TorServer; dir: string; port: number }> {
  const dir = await scratchDir(t, 'gw-tor-');
  const server = await TorServer.start({ host: '127.0.0.1', port: 0, dir, shutdownGraceMs: 0, ...options });
  t.after(() => server.close(0));
  return { server, dir, port: server.address().port };
}

/** A tor-server as a child process (so a test can kill it), on `port` (0: a free one). */
export async function spawnTorServer(dir: string, port = 0): Promise<{ child: ChildProcess; port: number; kill(): Promise<void> }> {
  const child = spawn(process.execPath, [TOR_SERVER_BIN, '--host', '127.0.0.1', '--port', String(port), '--dir', dir, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const line = await withTimeout(
    new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`tor-server exited with ${code} before listening`)));
    }),
    10_000,
    'tor-server to start',
  );
  const match = /^tor-server listening on .+:(\d+), serving /.exec(line);
  if (!match) throw new Error(`unexpected first line from tor-server: ${line}`);
  child.stdout!.resume();
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  };
  return { child, port: Number(match[1]), kill };
}

/** A gateway child process (from source, through tsx). */
export interface GatewayChild {
  child: ChildProcess;
  url: string;
  /** Every stdout line so far: the listening line and the JSON log lines. */
  lines: string[];
  /** Resident memory now, from /proc/<pid>/status (VmRSS), in bytes. */
  rss(): Promise<number>;
  /** Open file descriptors now, from /proc/<pid>/fd. */
  fds(): Promise<number>;
  kill(): Promise<void>;
}

/** Starts `tor-gateway` as a child process on a free port, killed when the test ends. */
export async function spawnGateway(t: { after(fn: () => unknown): void }, torPort: number, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<GatewayChild> {
  const webDir = await scratchDir(t, 'gw-web-');
  const child = spawn(process.execPath, ['--import', 'tsx', GATEWAY_MAIN, '--host', '127.0.0.1', '--port', '0', '--tor-port', String(torPort), '--web-dir', webDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await once(child, 'exit');
  };
  t.after(kill);
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (lines.some((line) => line.startsWith('tor-gateway listening on '))) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
      child.once('exit', (code) => {
        clearInterval(poll);
        reject(new Error(`tor-gateway exited with ${code} before listening: ${stderr}`));
      });
    }),
    20_000,
    'tor-gateway to start',
  );
  const match = /^tor-gateway listening on (http:\/\/\S+) /.exec(lines.find((line) => line.startsWith('tor-gateway listening on '))!);
  if (!match) throw new Error(`unexpected listening line from tor-gateway: ${lines.join('\n')}`);
  const rss = async () => {
    const status = await fs.readFile(`/proc/${child.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!kb) throw new Error('no VmRSS in /proc status');
    return Number(kb[1]) * 1024;
  };
  const fds = async () => (await fs.readdir(`/proc/${child.pid}/fd`)).length;
  return { child, url: match[1]!, lines, rss, fds, kill };
}

/** The gateway app on a tor-server port, ready (not listening), closed when the test ends. */
/** An app under test, with its TFTCP side at hand for assertions. */
export type TestApp = FastifyInstance & GatewayParts;

export async function startApp(t: { after(fn: () => unknown): void }, torPort: number, options: Partial<AppOptions> = {}): Promise<TestApp> {
  const webDir = options.webDir ?? (await scratchDir(t, 'gw-web-'));
  const app = buildApp({ ...TEST_APP_DEFAULTS, torHost: '127.0.0.1', torPort, webDir, ...options });
  t.after(async () => {
    // A failed test may leave a request open; close() would wait for it forever.
    const force = setTimeout(() => app.server.closeAllConnections(), 1000);
    await app.close();
    clearTimeout(force);
  });
  await app.ready();
  return Object.assign(app, gatewayParts(app));
}

/** Starts the app listening on 127.0.0.1 and returns its base URL (http://...). */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as net.AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Polls `check` until it is true; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends raw request bytes to 127.0.0.1:`port` and returns the whole answer (until the server closes) as text. */
export async function rawRequest(port: number, text: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.write(text);
  await withTimeout(once(socket, 'close'), 5000, 'the answer');
  return answer;
}

/** What a raw upload saw: the interim and final answers, and how much it had sent when the answer came. */
export interface RawUploadResult {
  /** Status lines of `100 Continue` answers before the final one. */
  interim: string[];
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes written before the final answer arrived. */
  sentBeforeAnswer: number;
  /** True when the gateway closed the connection (within the wait). */
  closed: boolean;
}

/**
 * A curl-like upload over a raw socket: sends the head, waits for `100 Continue` first when
 * `expectContinue` (as curl does), then writes `body` with backpressure and stops writing as
 * soon as a final answer arrives. Then waits (bounded) for the gateway to close the connection.
 */
export async function rawUpload(port: number, head: string, body: AsyncIterable<Buffer> | Iterable<Buffer>, options: { expectContinue?: boolean; closeWaitMs?: number } = {}): Promise<RawUploadResult> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => {});
  let buffer = '';
  const interim: string[] = [];
  let final: { status: number; headers: Record<string, string>; body: string } | undefined;
  let closed = false;
  let onContinue!: () => void;
  let onFinal!: () => void;
  const continued = new Promise<void>((resolve) => (onContinue = resolve));
  const finalArrived = new Promise<void>((resolve) => (onFinal = resolve));
  const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void gone.then(() => {
    closed = true;
    onContinue();
    onFinal();
  });
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0 || final) return;
      const lines = buffer.slice(0, end).split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1]);
      if (status === 100) {
        interim.push(lines[0]!);
        buffer = buffer.slice(end + 4);
        onContinue();
        continue;
      }
      const headers = Object.fromEntries(lines.slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      const length = Number(headers['content-length'] ?? 0);
      if (buffer.length - end - 4 < length) return;
      final = { status, headers, body: buffer.slice(end + 4, end + 4 + length) };
      onContinue();
      onFinal();
      return;
    }
  });
  socket.write(head);
  if (options.expectContinue) await withTimeout(continued, 10_000, 'an answer to the head');
  let sent = 0;
  for await (const chunk of body) {
    if (final || closed) break;
    sent += chunk.length;
    if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), finalArrived]);
  }
  const sentBeforeAnswer = sent;
  await withTimeout(finalArrived, 10_000, 'the final answer');
  if (!final) throw new Error(`no final answer (got ${JSON.stringify(buffer.slice(0, 200))})`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, options.closeWaitMs ?? 10_000)))]);
  clearTimeout(timer);
  socket.destroy();
  return { interim, ...final, sentBeforeAnswer, closed };
}

/** Rejects when `promise` takes longer than `timeoutMs`: no test waits forever. */
export async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Names visible in a tor-server folder (its hidden temp folder and lock file excluded: names never start with a dot). */
export async function storedNames(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((name) => name !== TEMP_DIR_NAME && !name.startsWith('.')).sort();
}

/** Files left in the tor-server's hidden temp folder: none once every upload is over. */
export async function tempFiles(dir: string): Promise<string[]> {
  return fs.readdir(path.join(dir, TEMP_DIR_NAME)).catch(() => []);
}

/** TFTCP connections the gateway holds outside its command pool (transfers). */
export function transferConnections(app: TestApp): number {
  return app.upstream.openCount - keptConnections(app);
}

/** Connections the gateway keeps between requests: the command pool's, idle transfer connections, the change feed's. */
export function keptConnections(app: TestApp): number {
  return app.commandPool.openCount + app.transferPool.idleCount + app.changeFeed.connectionCount;
}

/** Waits until the tor-server has exactly `count` clients. */
export async function waitForClients(server: TorServer, count: number): Promise<void> {
  await waitFor(() => server.connections.size === count, `the tor-server to have ${count} clients (has ${server.connections.size})`);
}

/** supertest parser that keeps the body as raw bytes. */
export function binary(res: Response, callback: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}

/** A `ws` client that records every message, to await them in order. */
export class WsProbe {
  readonly socket: WebSocket;
  readonly messages: WsServerMessage[] = [];
  #read = 0;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => this.messages.push(JSON.parse(String(data)) as WsServerMessage));
  }

  /** Opens a socket to `/api/ws` of a listening app; closed when the test ends. */
  static async open(t: { after(fn: () => unknown): void }, baseUrl: string, headers: Record<string, string> = {}): Promise<WsProbe> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/ws`, { headers });
    const probe = new WsProbe(socket);
    t.after(() => probe.close());
    await withTimeout(once(socket, 'open'), 5000, 'the WebSocket to open');
    return probe;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message (after those already taken) matching `match`; earlier non-matching ones are skipped. */
  async next(match: (message: WsServerMessage) => boolean = () => true, timeoutMs = 5000): Promise<WsServerMessage> {
    let found: WsServerMessage | undefined;
    await waitFor(
      () => {
        while (this.#read < this.messages.length) {
          const message = this.messages[this.#read++]!;
          if (match(message)) {
            found = message;
            return true;
          }
        }
        return false;
      },
      'a WebSocket message',
      timeoutMs,
    );
    return found!;
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close();
    await withTimeout(once(this.socket, 'close'), 5000, 'the WebSocket to close').catch(() => this.socket.terminate());
  }
}

/** Narrows a server message to the reply to a `command` (a listing by default), failing the test when it is an event. */
export function replyOf<C extends WsCommand = 'show'>(message: WsServerMessage): WsAnswers[C] | WsErrorReply {
  if (!('id' in message)) throw new Error(`expected a reply, got ${JSON.stringify(message)}`);
  return message as WsAnswers[C] | WsErrorReply;
}

/** GETs a URL on a fresh connection and hashes the body as it streams. */
export function fetchHash(url: string): Promise<{ status: number; hash: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const hash = createHash('sha256');
        res.on('data', (chunk: Buffer) => hash.update(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, hash: hash.digest('hex') }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}
