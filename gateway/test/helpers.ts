import { createHash } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Response } from 'supertest';
import { TEMP_DIR_NAME, TorServer, type Logger, type ServerConfig } from 'tor-server/server';
import { WAIT_MS, eventually, scratchDir, within, type Owner } from 'test-support';
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

/**
 * The tor-server build the fault tests spawn: GATEWAY_TEST_TOR_SERVER_BIN names another one (an
 * older one, to see a test catch its bug); undefined means the workspace's own build.
 */
export const TOR_SERVER_UNDER_TEST = process.env.GATEWAY_TEST_TOR_SERVER_BIN;

/** A real tor-server in this process, on a free port, serving a scratch folder. */
export async function startTorServer(t: Owner, options: Partial<ServerConfig> & { logger?: Logger } = {}): Promise<{ server: TorServer; dir: string; port: number }> {
  const dir = await scratchDir(t, 'gw-tor-');
  const server = await TorServer.start({ host: '127.0.0.1', port: 0, dir, shutdownGraceMs: 0, ...options });
  t.after(() => server.close(0));
  return { server, dir, port: server.address().port };
}

/** An app under test, with its TFTCP side at hand for assertions. */
export type TestApp = FastifyInstance & GatewayParts;

/** The gateway app on a tor-server port, ready (not listening), closed when the test ends. */
export async function startApp(t: Owner, torPort: number, options: Partial<AppOptions> = {}): Promise<TestApp> {
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

/** An in-process tor-server and the gateway app in front of it. */
export interface TestStack {
  server: TorServer;
  /** The tor-server's folder. */
  dir: string;
  /** The app's spool folder, for uploads without a size. */
  spoolDir: string;
  app: TestApp;
}

/**
 * Starts a tor-server over a scratch folder seeded with `files`, and the app on it (ready, not
 * listening) with a scratch spool folder; all closed when `owner` ends.
 */
export async function startStack(owner: Owner, options: { tor?: Partial<ServerConfig>; app?: Partial<AppOptions>; files?: Record<string, string | Buffer> } = {}): Promise<TestStack> {
  const { server, dir, port } = await startTorServer(owner, options.tor);
  for (const [name, content] of Object.entries(options.files ?? {})) await fs.writeFile(path.join(dir, name), content);
  const spoolDir = await scratchDir(owner, 'gw-spool-');
  const app = await startApp(owner, port, { spoolDir, ...options.app });
  return { server, dir, spoolDir, app };
}

/** Starts the app listening on 127.0.0.1 and returns its base URL (http://...). */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address() as net.AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/** Sends raw request bytes to 127.0.0.1:`port` and returns the whole answer (until the server closes) as text. */
export async function rawRequest(port: number, text: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.write(text);
  await within(once(socket, 'close'), WAIT_MS, 'the answer');
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
  if (options.expectContinue) await within(continued, 10_000, 'an answer to the head');
  let sent = 0;
  for await (const chunk of body) {
    if (final || closed) break;
    sent += chunk.length;
    if (!socket.write(chunk)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), finalArrived]);
  }
  const sentBeforeAnswer = sent;
  await within(finalArrived, 10_000, 'the final answer');
  if (!final) throw new Error(`no final answer (got ${JSON.stringify(buffer.slice(0, 200))})`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise((resolve) => (timer = setTimeout(resolve, options.closeWaitMs ?? 10_000)))]);
  clearTimeout(timer);
  socket.destroy();
  return { interim, ...final, sentBeforeAnswer, closed };
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
  await eventually(() => server.connections.size === count, `the tor-server to have ${count} clients (has ${server.connections.size})`);
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
  static async open(t: Owner, baseUrl: string, headers: Record<string, string> = {}): Promise<WsProbe> {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/ws`, { headers });
    const probe = new WsProbe(socket);
    t.after(() => probe.close());
    await within(once(socket, 'open'), WAIT_MS, 'the WebSocket to open');
    return probe;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next message (after those already taken) matching `match`; earlier non-matching ones are skipped. */
  async next(match: (message: WsServerMessage) => boolean = () => true, timeoutMs = WAIT_MS): Promise<WsServerMessage> {
    let found: WsServerMessage | undefined;
    await eventually(
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
    await within(once(this.socket, 'close'), WAIT_MS, 'the WebSocket to close').catch(() => this.socket.terminate());
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
