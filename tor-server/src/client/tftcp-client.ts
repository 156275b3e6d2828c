import type { Readable } from 'node:stream';
import { SignInRefusal, formatShareArgument, parseShareLine, parseShareRow, parseSignedInLine, type ShareInfo, type ShareRequest } from '../protocol/auth.js';
import { Command, Reply, type AccessLevel } from '../protocol/constants.js';
import { parseSize } from '../protocol/command-line.js';
import { formatRenameArgument, parseAccessLine, parseHashLine, parseWatchingLine } from '../protocol/changes.js';
import { parseFileRow, type FileEntry } from '../protocol/file-row.js';
import { INVALID_LINE, type RawBytes } from '../protocol/line-reader.js';
import { SourceSizeError, sendExactly } from '../protocol/write.js';
import { ChangeWatch } from './change-watch.js';
import { checkFileName } from './checks.js';
import { openSocket, type ConnectOptions, type OpenedSocket } from './connection.js';
import { TftcpConnectionError, TftcpReplyError, TftcpSizeMismatchError } from './errors.js';
import { ResumableUploads } from './resumable.js';

/** How to reach a tor-server, and the token to sign in with right after connecting. */
export type TftcpConnectOptions = ConnectOptions & {
  /** Signs in with `auth` before any other command; a refusal fails the connect. */
  token?: string;
  /** Sends `client <address>` first (a gateway naming its user); a refusal fails the connect. */
  clientAddress?: string;
};

/** Who a connection signed in as. */
export interface SignedIn {
  label: string;
  access: AccessLevel;
}

/** A share link just made: the token to hand out, its expiry (ISO, null for never) and its maximum of downloads (null for unlimited). */
export interface NewShare {
  token: string;
  expires: string | null;
  maxDownloads: number | null;
}

export type { ClientTls, ConnectOptions } from './connection.js';
export type { ShareInfo, ShareRequest } from '../protocol/auth.js';

// A watch is quiet for as long as nothing changes: TCP keep-alive, not a reply timeout, finds a dead server.
const WATCH_KEEPALIVE_MS = 30_000;

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

/**
 * A TFTCP connection. Commands may be called at any time; they run one after another in
 * call order, as the protocol requires. Refusals throw TftcpReplyError and leave the
 * connection usable; a broken connection throws TftcpConnectionError. Resumable uploads:
 * {@link ResumableUploads}.
 */
export class TftcpClient extends ResumableUploads {
  private constructor(opened: OpenedSocket, options: ConnectOptions) {
    super(opened, options);
  }

  /**
   * Connects to a tor-server, and signs in when given a token. Rejects with TftcpConnectionError
   * when it cannot be reached, TftcpReplyError when it refuses the token.
   */
  static async connect(options: TftcpConnectOptions): Promise<TftcpClient> {
    const client = new TftcpClient(await openSocket(options), options);
    if (options.token === undefined && options.clientAddress === undefined) return client;
    try {
      if (options.clientAddress !== undefined) await client.client(options.clientAddress);
      if (options.token !== undefined) await client.auth(options.token);
    } catch (error) {
      client.destroy();
      throw error;
    }
    return client;
  }

  /**
   * Names the end user's address (`client <address>`), for a gateway the server trusts: failed
   * sign-ins are then counted by that address. Must come before `auth`; others get `Permission denied`.
   */
  client(address: string): Promise<void> {
    return this.enqueue(async () => {
      // A line break would smuggle a second command onto the connection; no address has one.
      if (/[\s]/.test(address) || address === '') throw new TftcpReplyError(Reply.UNKNOWN);
      await this.send(`${Command.CLIENT} ${address}`);
      await this.expect(Reply.OK);
    });
  }

  /** Signs in with a token (`auth`); its level applies from the next command on. */
  auth(token: string): Promise<SignedIn> {
    return this.enqueue(async () => {
      // A line break would smuggle a second command onto the connection; no token has one.
      if (/[\s]/.test(token) || token === '') throw new TftcpReplyError(SignInRefusal.INVALID_TOKEN);
      await this.send(`${Command.AUTH} ${token}`);
      await this.expect(Reply.OK);
      const line = await this.readLine();
      const signedIn = parseSignedInLine(line);
      if (!signedIn) throw this.protocolError(`expected "${Reply.SIGNED_IN} <label> (<level>)", got "${line.slice(0, 80)}"`);
      return signedIn;
    });
  }

  /** Makes a share link for one file (write access); false when no file has the name. */
  share(request: ShareRequest): Promise<NewShare | false> {
    return this.enqueue(async () => {
      this.#checkFileName(request.name);
      await this.send(`${Command.SHARE} ${formatShareArgument(request)}`);
      await this.expect(Reply.OK);
      return (await this.#parsedOrMissing(parseShareLine)) ?? false;
    });
  }

  /** The share links this connection's token made (every one for an admin). */
  shares(): Promise<ShareInfo[]> {
    return this.enqueue(async () => {
      await this.send(Command.SHARES);
      await this.expect(Reply.OK);
      const rows: ShareInfo[] = [];
      for (let line = await this.readLine(); line !== Reply.END; line = await this.readLine()) {
        const row = parseShareRow(line);
        if (!row) throw this.protocolError(`malformed share row "${line.slice(0, 80)}"`);
        rows.push(row);
      }
      return rows;
    });
  }

  /** Revokes a share link: true once revoked, false when there is none with the id (or it is someone else's). */
  unshare(id: string): Promise<boolean> {
    return this.enqueue(async () => {
      if (/[\s]/.test(id) || id === '') return false;
      await this.send(`${Command.UNSHARE} ${id}`);
      return this.#outcome(Reply.DELETED);
    });
  }

  /** Every file on the server, sorted by name. */
  show(): Promise<FileEntry[]> {
    return this.enqueue(async () => {
      await this.send(Command.SHOW);
      return this.#readListing();
    });
  }

  /** The files whose name contains `text`, case-insensitively. */
  search(text: string): Promise<FileEntry[]> {
    return this.enqueue(async () => {
      // A line break would smuggle a second command onto the connection; TFTCP cannot express it.
      if (/[\r\n]/.test(text)) throw new TftcpReplyError(Reply.UNKNOWN);
      await this.send(`${Command.SEARCH} ${text}`);
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
    return this.enqueue(async () => {
      this.#checkFileName(name);
      await this.send(`${Command.UPLOAD} ${name}`);
      await this.expect(Reply.OK);
      await this.send(String(size));
      await this.expect(Reply.OK);
      options.onAccepted?.();
      let sent = 0;
      // sendExactly stops waiting when the connection closes; a Readable source is also
      // destroyed then, so it releases what it holds (a file, a request) at once.
      const stopSource = () => (source as Partial<Readable>).destroy?.(this.lost());
      this.socket.once('close', stopSource);
      try {
        await sendExactly(source as AsyncIterable<Buffer> | Iterable<Buffer>, this.socket, size, (n) => {
          sent += n;
          options.onProgress?.(sent, size);
        });
      } catch (error) {
        // The server is waiting for bytes that will never come: only closing can resync.
        const cause = this.closeError ?? new TftcpConnectionError(`upload of ${name} stopped after ${sent} of ${size} bytes: ${(error as Error).message}`, { cause: error });
        this.destroy(cause);
        if (error instanceof SourceSizeError && cause.cause === error) throw new TftcpSizeMismatchError(name, size, error.received);
        throw cause;
      } finally {
        this.socket.off('close', stopSource);
      }
      await this.expect(Reply.END);
    });
  }

  /** One file's listing row; undefined when no file has the name. */
  stat(name: string): Promise<FileEntry | undefined> {
    return this.enqueue(async () => {
      this.#checkFileName(name);
      await this.send(`${Command.STAT} ${name}`);
      return this.#statReply();
    });
  }

  /**
   * `stat` and `download` of `name` sent together, so the row and the bytes take one round trip
   * (for a reply whose headers need the row); undefined when no file has the name.
   */
  statAndDownload(name: string): Promise<{ entry: FileEntry; incoming: Incoming } | undefined> {
    return this.#transfer(name, [`${Command.STAT} ${name}`, `${Command.DOWNLOAD} ${name}`], async () => {
      let entry: FileEntry | undefined;
      try {
        entry = await this.#statReply();
      } catch (error) {
        if (error instanceof TftcpReplyError) await this.#skipRefusedDownload();
        throw error;
      }
      await this.expect(Reply.OK);
      const line = await this.readLine();
      if (line === Reply.NOT_FOUND) return { result: undefined };
      if (line !== Reply.FOUND) throw this.protocolError(`expected found or Not found file, got "${line.slice(0, 80)}"`);
      const incoming = await this.#incomingBytes();
      if (entry) return { result: { entry, incoming }, stream: incoming.stream };
      // Added between the two commands: no row to describe its bytes, which are left unread. A
      // connection error, so that a caller retries on a fresh connection (and finds the file).
      const appeared = new TftcpConnectionError(`${name} appeared between stat and download; the connection was closed`);
      this.destroy(appeared);
      throw appeared;
    });
  }

  /**
   * After a refused stat of statAndDownload: reads the download's answer, refused as well when
   * the connection is in step. An accepted download (bytes may follow) breaks the protocol's
   * rule that both pass the same checks: the connection is closed.
   */
  async #skipRefusedDownload(): Promise<void> {
    if ((await this.readLine()) === Reply.OK) throw this.protocolError('it refused stat but accepted download of the same name');
  }

  /** The rest of a `stat` reply: the row, or undefined for `Not found file`. */
  async #statReply(): Promise<FileEntry | undefined> {
    await this.expect(Reply.OK);
    return this.#parsedOrMissing(parseFileRow);
  }

  /** The next line as `parse` reads it, or undefined for `Not found file`; a line `parse` rejects is a refusal. */
  async #parsedOrMissing<T>(parse: (line: string) => T | undefined): Promise<T | undefined> {
    const line = await this.readLine();
    if (line === Reply.NOT_FOUND) return undefined;
    const value = parse(line);
    if (value === undefined) throw new TftcpReplyError(line);
    return value;
  }

  /** The file's sha256 as 64 lower-case hex digits, computed by the server; undefined when no file has the name. */
  hash(name: string): Promise<string | undefined> {
    return this.enqueue(async () => {
      this.#checkFileName(name);
      // Hashing a large file takes a while with nothing on the wire: no reply timeout for this one.
      await this.send(`${Command.HASH} ${name}`);
      await this.expect(Reply.OK);
      this.socket.setTimeout(0);
      // Without a timeout, keep-alive is what finds a server that vanished meanwhile.
      this.socket.setKeepAlive(true, WATCH_KEEPALIVE_MS);
      return this.#parsedOrMissing(parseHashLine);
    });
  }

  /** Deletes a file: true once deleted, false when no file has the name. Refusals (`Permission denied`) throw. */
  delete(name: string): Promise<boolean> {
    return this.enqueue(async () => {
      this.#checkFileName(name);
      await this.send(`${Command.DELETE} ${name}`);
      return this.#outcome(Reply.DELETED);
    });
  }

  /**
   * Renames a file, never over another: true once renamed, false when no file has `from`.
   * `File already exists`, `Permission denied` and `Invalid file name` throw TftcpReplyError.
   */
  rename(from: string, to: string): Promise<boolean> {
    return this.enqueue(async () => {
      this.#checkFileName(from);
      this.#checkFileName(to);
      await this.send(`${Command.RENAME} ${formatRenameArgument(from, to)}`);
      return this.#outcome(Reply.RENAMED);
    });
  }

  /** What this connection may do: `read`, `write` or `admin`. */
  whoami(): Promise<AccessLevel> {
    return this.enqueue(async () => {
      await this.send(Command.WHOAMI);
      await this.expect(Reply.OK);
      const line = await this.readLine();
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
      this.enqueue(async () => {
        let watch: ChangeWatch;
        try {
          await this.send(since === undefined ? Command.WATCH : `${Command.WATCH} ${since}`);
          await this.expect(Reply.OK);
          const line = await this.readLine();
          const seq = parseWatchingLine(line);
          if (seq === undefined) throw this.protocolError(`expected "${Reply.WATCHING} <seq>", got "${line.slice(0, 80)}"`);
          watch = new ChangeWatch(seq, this.#watchLink(), since);
        } catch (error) {
          rejectWatch(error);
          return;
        }
        this.socket.setTimeout(0);
        this.socket.setKeepAlive(true, WATCH_KEEPALIVE_MS);
        resolveWatch(watch);
        // The queue slot stays taken for as long as the watch runs.
        await watch.finished;
      }).catch(() => {});
    });
  }

  /** Signs out and closes the connection. */
  exit(): Promise<void> {
    return this.enqueue(async () => {
      await this.send(Command.EXIT);
      await this.expect(Reply.EXIT);
      this.signOut();
    });
  }

  /** Reads `ok`, then `success` (true) or `Not found file` (false); any other line is a refusal. */
  async #outcome(success: string): Promise<boolean> {
    await this.expect(Reply.OK);
    const line = await this.readLine();
    if (line === success) return true;
    if (line === Reply.NOT_FOUND) return false;
    throw new TftcpReplyError(line);
  }

  #watchLink() {
    return {
      readLine: async () => {
        const line = await this.reader.nextLine();
        if (line === INVALID_LINE) throw this.protocolError('the server sent a line that is not UTF-8');
        return line;
      },
      send: (line: string) => this.send(line),
      signOut: () => this.signOut(),
      lost: () => this.lost(),
      fail: (message: string) => this.protocolError(message),
    };
  }

  /** The client's boundary check (checks.ts), unless the caller checked its names where they arrived. */
  #checkFileName(name: string): void {
    if (!this.namesChecked) checkFileName(name);
  }

  #incoming(name: string, line: string): Promise<Incoming> {
    return this.#transfer(name, [line], async () => {
      await this.expect(Reply.OK);
      await this.expect(Reply.FOUND);
      const incoming = await this.#incomingBytes();
      return { result: incoming, stream: incoming.stream };
    });
  }

  /** The size line after `found`, and the stream of that many bytes after it. */
  async #incomingBytes(): Promise<Incoming> {
    const sizeLine = await this.readLine();
    const size = parseSize(sizeLine);
    if (size === undefined) throw this.protocolError(`expected a size line, got "${sizeLine.slice(0, 80)}"`);
    return { size, stream: this.reader.readBytes(size) };
  }

  /**
   * Sends `lines` in one write and reads their replies with `head`, which answers the result
   * and the stream of bytes it started, if any. The queue slot is held until that stream is
   * over, so no command can cut into the bytes.
   */
  #transfer<T>(name: string, lines: string[], head: () => Promise<{ result: T; stream?: RawBytes }>): Promise<T> {
    return new Promise<T>((resolveTransfer, rejectTransfer) => {
      this.enqueue(async () => {
        let started: { result: T; stream?: RawBytes };
        try {
          this.#checkFileName(name);
          await this.send(lines.join('\n'));
          started = await head();
        } catch (error) {
          rejectTransfer(error);
          return;
        }
        resolveTransfer(started.result);
        const { stream } = started;
        if (!stream) return;
        await new Promise<void>((done) => {
          if (stream.readableEnded || stream.destroyed) return done();
          stream.once('close', () => {
            // A consumer that stopped early leaves unread bytes on the wire: the connection is unusable.
            // The stream also ends early when the server goes away, which is a lost connection instead.
            const serverGone = this.socket.readableEnded || this.socket.destroyed;
            if (!stream.readableEnded) this.destroy(serverGone ? this.lost() : new TftcpConnectionError('a download was abandoned midway; the connection was closed'));
            done();
          });
          stream.once('end', done);
        });
      }).catch(() => {});
    });
  }

  async #readListing(): Promise<FileEntry[]> {
    await this.expect(Reply.OK);
    const entries: FileEntry[] = [];
    for (;;) {
      const line = await this.readLine();
      if (line === Reply.END) return entries;
      const entry = parseFileRow(line);
      if (!entry) throw this.protocolError(`malformed listing row "${line.slice(0, 80)}"`);
      entries.push(entry);
    }
  }
}
