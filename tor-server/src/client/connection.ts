import { EventEmitter } from 'node:events';
import net from 'node:net';
import { pipeline } from 'node:stream';
import tls from 'node:tls';
import { INVALID_LINE, LineReader } from '../protocol/line-reader.js';
import { writeLine } from '../protocol/write.js';
import { connectProblem } from './checks.js';
import { TftcpConnectionError, TftcpError, TftcpProtocolError, TftcpReplyError } from './errors.js';
import { ReceiveBuffer } from './receive-buffer.js';

/** Longest reply line the client accepts. */
const MAX_REPLY_LINE_BYTES = 64 * 1024;

/** How a client speaks TLS to the tor-server. */
export interface ClientTls {
  /** CA certificates (PEM) to trust instead of the system's, e.g. a team's own CA or a self-signed server certificate. */
  ca?: string;
  /** Accept any certificate: encrypted, but anyone in between can pretend to be the server. */
  insecure?: boolean;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** Speak TLS (the same TFTCP inside); undefined: plain TCP. */
  tls?: ClientTls;
  /** Give up connecting after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** Cut the connection when the server sends nothing for this long while we wait for it. Default 60 s. */
  replyTimeoutMs?: number;
  /** Aborting it closes the connection. */
  signal?: AbortSignal;
  /**
   * The caller checks every file name against the TFTCP name rules where its input arrives (the
   * gateway does, per request), so commands send names as given. Without it (the default), each
   * command refuses a name the server would refuse before writing it into a command line.
   */
  namesChecked?: boolean;
}

interface ConnectionEvents {
  /** The connection is gone; `error` says why when it was not a clean exit. */
  close: [error?: TftcpConnectionError];
}

/** A connected socket and the line reader its bytes go to. */
export interface OpenedSocket {
  socket: net.Socket;
  reader: LineReader;
}

/**
 * Opens the connection to a tor-server; rejects with TftcpConnectionError in words a user can
 * act on. A plain socket reads into a ReceiveBuffer and feeds the line reader directly (no
 * stream between them), so a raw sink gets each read's bytes with no copy and no allocation;
 * a TLS socket (which takes no `onread`) is piped into the reader.
 */
export function openSocket(options: ConnectOptions): Promise<OpenedSocket> {
  return new Promise((resolve, reject) => {
    const where = `${options.host}:${options.port}`;
    const reader = new LineReader({ maxLineBytes: MAX_REPLY_LINE_BYTES });
    // The reader's error reaches the commands through nextLine and the raw streams; this keeps it handled.
    reader.on('error', () => {});
    const socket = options.tls ? tlsConnect(options, options.tls, reader) : plainConnect(options, reader);
    // Set when TCP connected but the TLS handshake is still waiting: a plain port says nothing to a ClientHello.
    let tcpConnected = false;
    if (options.tls) socket.once('connect', () => (tcpConnected = true));
    const timer = setTimeout(() => {
      socket.destroy();
      const seconds = (options.connectTimeoutMs ?? 10_000) / 1000;
      const message = tcpConnected
        ? `${where} accepted the connection but did not answer the TLS handshake within ${seconds} s. Is it a plain TFTCP port? Try without --tls, or the server's TLS port.`
        : `could not reach the tor-server at ${where} within ${seconds} s`;
      reject(new TftcpConnectionError(message));
    }, options.connectTimeoutMs ?? 10_000);
    const onConnectError = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new TftcpConnectionError(connectProblem(error, where), { cause: error }));
    };
    socket.once('error', onConnectError);
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.removeListener('error', onConnectError);
      resolve({ socket, reader });
    });
  });
}

function plainConnect(options: ConnectOptions, reader: LineReader): net.Socket {
  const memory = new ReceiveBuffer();
  const resume = () => socket.resume();
  const socket = net.connect({
    host: options.host,
    port: options.port,
    onread: {
      buffer: () => memory.next(),
      callback: (length, buffer) => {
        const result = reader.feed((buffer as Buffer).subarray(0, length), resume);
        memory.used(length, result !== 'reuse');
        // false stops reading until the reader calls `resume`.
        return result !== 'pause';
      },
    },
  });
  // What pipeline does for a piped socket: the reader learns of the end, or of the error.
  socket.once('end', () => reader.end());
  socket.once('error', (error) => reader.destroy(error));
  socket.once('close', () => reader.destroy());
  return socket;
}

function tlsConnect(options: ConnectOptions, settings: ClientTls, reader: LineReader): tls.TLSSocket {
  const socket = tls.connect({
    host: options.host,
    port: options.port,
    ...(settings.ca !== undefined && { ca: settings.ca }),
    rejectUnauthorized: !settings.insecure,
    // SNI takes host names only; an address is checked against the certificate's IP entries.
    ...(net.isIP(options.host) === 0 && { servername: options.host }),
  });
  pipeline(socket, reader, () => {});
  return socket;
}

/**
 * One TFTCP connection's plumbing, under the commands of TftcpClient: the socket and its line
 * reader, the queue that runs commands one after another in call order, the reply timeout,
 * and the errors a broken connection turns into.
 */
export abstract class TftcpConnection extends EventEmitter<ConnectionEvents> {
  readonly host: string;
  readonly port: number;
  protected readonly socket: net.Socket;
  /** Whether the caller has already checked every name it passes (ConnectOptions.namesChecked). */
  protected readonly namesChecked: boolean;
  protected readonly reader: LineReader;
  readonly #replyTimeoutMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  #closeError: TftcpConnectionError | undefined;
  #closed = false;
  /** Set once the server acknowledged `exit`: only then is its closing the connection expected. */
  #signedOut = false;

  protected constructor({ socket, reader }: OpenedSocket, options: ConnectOptions) {
    super();
    this.reader = reader;
    this.host = options.host;
    this.port = options.port;
    this.socket = socket;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 60_000;
    this.namesChecked = options.namesChecked ?? false;
    socket.setNoDelay(true);
    socket.on('timeout', () => this.destroy(new TftcpConnectionError(`${this.where} sent nothing for ${this.#replyTimeoutMs / 1000} s; the connection was closed`)));
    socket.on('error', (error) => (this.#closeError ??= new TftcpConnectionError(`connection to ${this.where} failed: ${error.message}`, { cause: error })));
    socket.once('close', () => {
      this.#closed = true;
      if (!this.#signedOut) this.#closeError ??= new TftcpConnectionError(this.#lostMessage());
      this.emit('close', this.#closeError);
    });
    options.signal?.addEventListener('abort', () => this.destroy(), { once: true });
  }

  /** True once the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the connection is gone (or going), once that is known. */
  protected get closeError(): TftcpConnectionError | undefined {
    return this.#closeError;
  }

  protected get where(): string {
    return `the tor-server at ${this.host}:${this.port}`;
  }

  /** Closes the connection at once; commands under way fail with `error` (or a generic one). */
  destroy(error?: TftcpConnectionError): void {
    this.#closeError ??= error ?? new TftcpConnectionError(`connection to ${this.host}:${this.port} closed by the client`);
    this.socket.destroy();
  }

  /** The server acknowledged `exit`: close our side, expecting it to close too. */
  protected signOut(): void {
    this.#signedOut = true;
    this.socket.end();
  }

  /** Runs `task` once every earlier command is done, under the reply timeout. */
  protected enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.#closed || this.socket.destroyed) throw this.lost();
      this.socket.setTimeout(this.#replyTimeoutMs);
      try {
        return await task();
      } catch (error) {
        if (error instanceof TftcpError) throw error;
        throw this.lost(error);
      } finally {
        this.socket.setTimeout(0);
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  protected async send(line: string): Promise<void> {
    await writeLine(this.socket, line);
  }

  protected async readLine(): Promise<string> {
    const line = await this.reader.nextLine();
    if (line === null) throw this.lost();
    if (line === INVALID_LINE) throw this.protocolError('the server sent a line that is not UTF-8');
    return line;
  }

  /** Reads a line; anything but `expected` is a refusal, thrown as TftcpReplyError. */
  protected async expect(expected: string): Promise<void> {
    const line = await this.readLine();
    if (line !== expected) throw new TftcpReplyError(line);
  }

  protected protocolError(message: string): TftcpProtocolError {
    this.destroy(new TftcpConnectionError(`${this.where} broke the protocol: ${message}`));
    return new TftcpProtocolError(`${this.where} broke the protocol: ${message}`);
  }

  protected lost(cause?: unknown): TftcpConnectionError {
    return this.#closeError ?? new TftcpConnectionError(this.#lostMessage(), { cause });
  }

  /** A plain client on a TLS port is closed without a word: say what that silence most likely means. */
  #lostMessage(): string {
    const silent = this.socket.bytesRead === 0 && !(this.socket instanceof tls.TLSSocket);
    return silent
      ? `${this.where} closed the connection without a word. If that port speaks TLS, connect with --tls (TftcpClient: the tls option).`
      : `the connection to ${this.where} was lost`;
  }
}
