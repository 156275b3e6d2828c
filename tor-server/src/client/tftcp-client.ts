import { EventEmitter } from 'node:events';
import net from 'node:net';
import { pipeline, type Readable } from 'node:stream';
import { Command, Reply, type AccessLevel } from '../protocol/constants.js';
import { parseSize } from '../protocol/command-line.js';
import { formatRenameArgument, parseAccessLine, parseHashLine, parseWatchingLine } from '../protocol/changes.js';
import { parseFileRow, type FileEntry } from '../protocol/file-row.js';
import { INVALID_LINE, LineReader, type RawBytes } from '../protocol/line-reader.js';
import { SourceSizeError, sendExactly, writeLine } from '../protocol/write.js';
import { ChangeWatch } from './change-watch.js';
import { checkFileName, connectProblem } from './checks.js';
import { TftcpConnectionError, TftcpError, TftcpProtocolError, TftcpReplyError, TftcpSizeMismatchError } from './errors.js';

// A watch is quiet for as long as nothing changes: TCP keep-alive, not a reply timeout, finds a dead server.
const WATCH_KEEPALIVE_MS = 30_000;

export interface ConnectOptions {
  host: string;
  port: number;
  /** Give up connecting after this long. Default 10 s. */
  connectTimeoutMs?: number;
  /** Cut the connection when the server sends nothing for this long while we wait for it. Default 60 s. */
  replyTimeoutMs?: number;
  /** Aborting it closes the connection. */
  signal?: AbortSignal;
}

/** A file coming from the server: its byte count, then exactly that many bytes. */
export interface Incoming {
  size: number;
  /** The bytes; the client takes no other command until this stream has ended or been destroyed. */
  stream: RawBytes;
}

export interface UploadOptions {
  /** Called once the server has accepted the name and the size, just before the first chunk is read from the source. */
  onAccepted?(): void;
  /** Called as bytes are handed to the socket. */
  onProgress?(sent: number, total: number): void;
}

interface ClientEvents {
  /** The connection is gone; `error` says why when it was not a clean exit. */
  close: [error?: TftcpConnectionError];
}

/**
 * A TFTCP connection. Commands may be called at any time; they run one after another in
 * call order, as the protocol requires. Refusals throw TftcpReplyError and leave the
 * connection usable; a broken connection throws TftcpConnectionError.
 */
export class TftcpClient extends EventEmitter<ClientEvents> {
  readonly host: string;
  readonly port: number;
  readonly #socket: net.Socket;
  readonly #reader = new LineReader({ maxLineBytes: 64 * 1024 });
  readonly #replyTimeoutMs: number;
  #queue: Promise<unknown> = Promise.resolve();
  #closeError: TftcpConnectionError | undefined;
  #closed = false;
  /** Set once the server acknowledged `exit`: only then is its closing the connection expected. */
  #signedOut = false;

  private constructor(socket: net.Socket, options: ConnectOptions) {
    super();
    this.host = options.host;
    this.port = options.port;
    this.#socket = socket;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? 60_000;
    socket.setNoDelay(true);
    socket.on('timeout', () => this.destroy(new TftcpConnectionError(`${this.#where} sent nothing for ${this.#replyTimeoutMs / 1000} s; the connection was closed`)));
    socket.on('error', (error) => (this.#closeError ??= new TftcpConnectionError(`connection to ${this.#where} failed: ${error.message}`, { cause: error })));
    socket.once('close', () => {
      this.#closed = true;
      if (!this.#signedOut) this.#closeError ??= new TftcpConnectionError(`the connection to ${this.#where} was lost`);
      this.emit('close', this.#closeError);
    });
    pipeline(socket, this.#reader, () => {});
    options.signal?.addEventListener('abort', () => this.destroy(), { once: true });
  }

  /** Connects to a tor-server. Rejects with TftcpConnectionError when it cannot be reached. */
  static connect(options: ConnectOptions): Promise<TftcpClient> {
    return new Promise((resolve, reject) => {
      const where = `${options.host}:${options.port}`;
      const socket = net.connect({ host: options.host, port: options.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TftcpConnectionError(`could not reach the tor-server at ${where} within ${(options.connectTimeoutMs ?? 10_000) / 1000} s`));
      }, options.connectTimeoutMs ?? 10_000);
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(new TftcpConnectionError(connectProblem(error, where), { cause: error }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TftcpClient(socket, options));
      });
    });
  }

  /** True once the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  get #where(): string {
    return `the tor-server at ${this.host}:${this.port}`;
  }

  /** Every file on the server, sorted by name. */
  show(): Promise<FileEntry[]> {
    return this.#enqueue(async () => {
      await this.#send(Command.SHOW);
      return this.#readListing();
    });
  }

  /** The files whose name contains `text`, case-insensitively. */
  search(text: string): Promise<FileEntry[]> {
    return this.#enqueue(async () => {
      // A line break would smuggle a second command onto the connection; TFTCP cannot express it.
      if (/[\r\n]/.test(text)) throw new TftcpReplyError(Reply.UNKNOWN);
      await this.#send(`${Command.SEARCH} ${text}`);
      return this.#readListing();
    });
  }

  /**
   * What a search box shows: every file when `text` is empty or absent, else the files whose
   * name contains it. The one place where an empty search means `show`, since TFTCP's `search`
   * needs a non-empty argument.
   */
  list(text = ''): Promise<FileEntry[]> {
    return text === '' ? this.show() : this.search(text);
  }

  /** Starts a download; the bytes arrive on the returned stream. */
  download(name: string): Promise<Incoming> {
    return this.#incoming(name, `${Command.DOWNLOAD} ${name}`);
  }

  /** Starts a download of bytes [offset, offset+length), clipped at the end of the file. */
  range(name: string, offset: number, length: number): Promise<Incoming> {
    return this.#incoming(name, `${Command.RANGE} ${offset} ${length} ${name}`);
  }

  /**
   * Uploads exactly `size` bytes from `source` as `name`. Resolves once the server has stored
   * it durably. A source that yields a different byte count cuts the connection (the server
   * then stores nothing) and rejects with TftcpSizeMismatchError; no byte past `size` is sent.
   */
  upload(name: string, size: number, source: AsyncIterable<Buffer> | Iterable<Buffer> | Readable, options: UploadOptions = {}): Promise<void> {
    return this.#enqueue(async () => {
      checkFileName(name);
      await this.#send(`${Command.UPLOAD} ${name}`);
      await this.#expect(Reply.OK);
      await this.#send(String(size));
      await this.#expect(Reply.OK);
      options.onAccepted?.();
      let sent = 0;
      // sendExactly stops waiting when the connection closes; a Readable source is also
      // destroyed then, so it releases what it holds (a file, a request) at once.
      const stopSource = () => (source as Partial<Readable>).destroy?.(this.#lost());
      this.#socket.once('close', stopSource);
      try {
        await sendExactly(source as AsyncIterable<Buffer> | Iterable<Buffer>, this.#socket, size, (n) => {
          sent += n;
          options.onProgress?.(sent, size);
        });
      } catch (error) {
        // The server is waiting for bytes that will never come: only closing can resync.
        const cause = this.#closeError ?? new TftcpConnectionError(`upload of ${name} stopped after ${sent} of ${size} bytes: ${(error as Error).message}`, { cause: error });
        this.destroy(cause);
        if (error instanceof SourceSizeError && cause.cause === error) throw new TftcpSizeMismatchError(name, size, error.received);
        throw cause;
      } finally {
        this.#socket.off('close', stopSource);
      }
      await this.#expect(Reply.END);
    });
  }

  /** One file's listing row; undefined when no file has the name. */
  stat(name: string): Promise<FileEntry | undefined> {
    return this.#enqueue(async () => {
      checkFileName(name);
      await this.#send(`${Command.STAT} ${name}`);
      await this.#expect(Reply.OK);
      const line = await this.#readLine();
      if (line === Reply.NOT_FOUND) return undefined;
      const entry = parseFileRow(line);
      if (!entry) throw new TftcpReplyError(line);
      return entry;
    });
  }

  /** The file's sha256 as 64 lower-case hex digits, computed by the server; undefined when no file has the name. */
  hash(name: string): Promise<string | undefined> {
    return this.#enqueue(async () => {
      checkFileName(name);
      // Hashing a large file takes a while with nothing on the wire: no reply timeout for this one.
      await this.#send(`${Command.HASH} ${name}`);
      await this.#expect(Reply.OK);
      this.#socket.setTimeout(0);
      const line = await this.#readLine();
      if (line === Reply.NOT_FOUND) return undefined;
      const hex = parseHashLine(line);
      if (hex === undefined) throw new TftcpReplyError(line);
      return hex;
    });
  }

  /** Deletes a file: true once deleted, false when no file has the name. Refusals (`Permission denied`) throw. */
  delete(name: string): Promise<boolean> {
    return this.#enqueue(async () => {
      checkFileName(name);
      await this.#send(`${Command.DELETE} ${name}`);
      return this.#outcome(Reply.DELETED);
    });
  }

  /**
   * Renames a file, never over another: true once renamed, false when no file has `from`.
   * `File already exists`, `Permission denied` and `Invalid file name` throw TftcpReplyError.
   */
  rename(from: string, to: string): Promise<boolean> {
    return this.#enqueue(async () => {
      checkFileName(from);
      checkFileName(to);
      await this.#send(`${Command.RENAME} ${formatRenameArgument(from, to)}`);
      return this.#outcome(Reply.RENAMED);
    });
  }

  /** What this connection may do: `read`, `write` or `admin`. */
  whoami(): Promise<AccessLevel> {
    return this.#enqueue(async () => {
      await this.#send(Command.WHOAMI);
      await this.#expect(Reply.OK);
      const line = await this.#readLine();
      const level = parseAccessLine(line);
      if (level === undefined) throw new TftcpReplyError(line);
      return level;
    });
  }

  /**
   * Turns this connection into a feed of the server's changes, after `since` when given (the
   * lastSeq of an earlier watch: the events missed meanwhile come first, or a `resync` event
   * when the server no longer has them). The connection is the watch's until it is closed,
   * which also signs out; run other commands on another client.
   */
  watch(since?: number): Promise<ChangeWatch> {
    return new Promise<ChangeWatch>((resolveWatch, rejectWatch) => {
      this.#enqueue(async () => {
        let watch: ChangeWatch;
        try {
          await this.#send(since === undefined ? Command.WATCH : `${Command.WATCH} ${since}`);
          await this.#expect(Reply.OK);
          const line = await this.#readLine();
          const seq = parseWatchingLine(line);
          if (seq === undefined) throw this.#protocolError(`expected "${Reply.WATCHING} <seq>", got "${line.slice(0, 80)}"`);
          watch = new ChangeWatch(seq, this.#watchLink());
        } catch (error) {
          rejectWatch(error);
          return;
        }
        this.#socket.setTimeout(0);
        this.#socket.setKeepAlive(true, WATCH_KEEPALIVE_MS);
        resolveWatch(watch);
        // The queue slot stays taken for as long as the watch runs.
        await watch.finished;
      }).catch(() => {});
    });
  }

  /** Signs out and closes the connection. */
  exit(): Promise<void> {
    return this.#enqueue(async () => {
      await this.#send(Command.EXIT);
      await this.#expect(Reply.EXIT);
      this.#signedOut = true;
      this.#socket.end();
    });
  }

  /** Closes the connection at once; commands under way fail with `error` (or a generic one). */
  destroy(error?: TftcpConnectionError): void {
    this.#closeError ??= error ?? new TftcpConnectionError(`connection to ${this.host}:${this.port} closed by the client`);
    this.#socket.destroy();
  }

  /** Reads `ok`, then `success` (true) or `Not found file` (false); any other line is a refusal. */
  async #outcome(success: string): Promise<boolean> {
    await this.#expect(Reply.OK);
    const line = await this.#readLine();
    if (line === success) return true;
    if (line === Reply.NOT_FOUND) return false;
    throw new TftcpReplyError(line);
  }

  #watchLink() {
    return {
      readLine: async () => {
        const line = await this.#reader.nextLine();
        if (line === INVALID_LINE) throw this.#protocolError('the server sent a line that is not UTF-8');
        return line;
      },
      send: (line: string) => this.#send(line),
      signOut: () => {
        this.#signedOut = true;
        this.#socket.end();
      },
      lost: () => this.#lost(),
      fail: (message: string) => this.#protocolError(message),
    };
  }

  #incoming(name: string, line: string): Promise<Incoming> {
    return new Promise<Incoming>((resolveIncoming, rejectIncoming) => {
      // The queue slot is held until the stream is over, so no command can cut into the bytes.
      this.#enqueue(async () => {
        let incoming: Incoming;
        try {
          checkFileName(name);
          await this.#send(line);
          await this.#expect(Reply.OK);
          await this.#expect(Reply.FOUND);
          const sizeLine = await this.#readLine();
          const size = parseSize(sizeLine);
          if (size === undefined) throw this.#protocolError(`expected a size line, got "${sizeLine.slice(0, 80)}"`);
          incoming = { size, stream: this.#reader.readBytes(size) };
        } catch (error) {
          rejectIncoming(error);
          return;
        }
        resolveIncoming(incoming);
        await new Promise<void>((done) => {
          if (incoming.stream.readableEnded || incoming.stream.destroyed) return done();
          incoming.stream.once('close', () => {
            // A consumer that stopped early leaves unread bytes on the wire: the connection is unusable.
            // The stream also ends early when the server goes away, which is a lost connection instead.
            const serverGone = this.#socket.readableEnded || this.#socket.destroyed;
            if (!incoming.stream.readableEnded) this.destroy(serverGone ? this.#lost() : new TftcpConnectionError('a download was abandoned midway; the connection was closed'));
            done();
          });
          incoming.stream.once('end', done);
        });
      }).catch(() => {});
    });
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = async () => {
      if (this.#closed || this.#socket.destroyed) throw this.#lost();
      this.#socket.setTimeout(this.#replyTimeoutMs);
      try {
        return await task();
      } catch (error) {
        if (error instanceof TftcpError) throw error;
        throw this.#lost(error);
      } finally {
        this.#socket.setTimeout(0);
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => {});
    return result;
  }

  async #send(line: string): Promise<void> {
    await writeLine(this.#socket, line);
  }

  async #readLine(): Promise<string> {
    const line = await this.#reader.nextLine();
    if (line === null) throw this.#lost();
    if (line === INVALID_LINE) throw this.#protocolError('the server sent a line that is not UTF-8');
    return line;
  }

  /** Reads a line; anything but `expected` is a refusal, thrown as TftcpReplyError. */
  async #expect(expected: string): Promise<void> {
    const line = await this.#readLine();
    if (line !== expected) throw new TftcpReplyError(line);
  }

  async #readListing(): Promise<FileEntry[]> {
    await this.#expect(Reply.OK);
    const entries: FileEntry[] = [];
    for (;;) {
      const line = await this.#readLine();
      if (line === Reply.END) return entries;
      const entry = parseFileRow(line);
      if (!entry) throw this.#protocolError(`malformed listing row "${line.slice(0, 80)}"`);
      entries.push(entry);
    }
  }

  #protocolError(message: string): TftcpProtocolError {
    this.destroy(new TftcpConnectionError(`${this.#where} broke the protocol: ${message}`));
    return new TftcpProtocolError(`${this.#where} broke the protocol: ${message}`);
  }

  #lost(cause?: unknown): TftcpConnectionError {
    return this.#closeError ?? new TftcpConnectionError(`the connection to ${this.#where} was lost`, { cause });
  }
}
