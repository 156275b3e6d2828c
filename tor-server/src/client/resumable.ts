import type { Readable } from 'node:stream';
import { Command, ErrorKind, Reply, STATUS_DETAILS, errorKindOf } from '../protocol/constants.js';
import { parseRanges, type ByteRange } from '../protocol/ranges.js';
import { formatBeginArguments, isUploadId, parseCommittedLine, parseHaveLine, parsePartialLine, parseUploadIdLine, type PartialDetails } from '../protocol/resumable.js';
import { SourceSizeError, sendExactly } from '../protocol/write.js';
import { checkFileName } from './checks.js';
import { TftcpConnection } from './connection.js';
import { TftcpConnectionError, TftcpReplyError, TftcpSizeMismatchError } from './errors.js';

/** A resumable upload as the server holds it: its id, and the byte ranges it has. */
export interface PartialUpload {
  id: string;
  /** Stored byte ranges, [start, end) each, sorted. */
  have: ByteRange[];
}

/**
 * What `status <id> details` tells: an unfinished upload (its size, expiry and name), or one
 * committed a while ago (`committed`: every byte is stored under its name; no expiry).
 */
export type UploadDetails = PartialUpload & ((PartialDetails & { committed: false }) | { committed: true; size: number; name: string });

/** Bytes for a `put`: a buffer, or a stream of exactly `length` bytes. */
export type PutSource = Buffer | { length: number; data: AsyncIterable<Buffer> | Iterable<Buffer> | Readable };

/** `commit` found ranges missing; the upload is kept, send them and commit again. */
export class TftcpIncompleteUploadError extends TftcpReplyError {
  readonly missing: ByteRange[];
  constructor(reply: string, missing: ByteRange[]) {
    super(reply);
    this.missing = missing;
  }
}

/** `commit` found other bytes than the announced sha256; the server discarded the upload. */
export class TftcpChecksumMismatchError extends TftcpReplyError {}

/** The resumable-upload commands of TFTCP/1.1 (begin, put, status, commit, abort), for TftcpClient. */
export abstract class ResumableUploads extends TftcpConnection {
  /**
   * Begins (or resumes: same name, size and sha256) an upload of `size` bytes as `name`;
   * `sha256` (64 lower-case hex digits), when given, is checked at commit.
   */
  begin(name: string, size: number, sha256?: string): Promise<PartialUpload> {
    return this.#begin(Command.BEGIN, name, size, sha256);
  }

  /** As `begin`, but always a new upload (`have` is empty): never one of the same name, size and sha256 begun before. */
  create(name: string, size: number, sha256?: string): Promise<PartialUpload> {
    return this.#begin(Command.CREATE, name, size, sha256);
  }

  #begin(word: typeof Command.BEGIN | typeof Command.CREATE, name: string, size: number, sha256: string | undefined): Promise<PartialUpload> {
    return this.enqueue(async () => {
      if (!this.namesChecked) checkFileName(name);
      await this.send(`${word} ${formatBeginArguments({ size, sha256, name })}`);
      await this.expect(Reply.OK);
      const idLine = await this.readLine();
      const id = parseUploadIdLine(idLine);
      if (id === undefined) throw this.protocolError(`expected "${Reply.UPLOAD_ID} <id>", got "${idLine.slice(0, 80)}"`);
      return { id, have: await this.#readHave() };
    });
  }

  /**
   * Sends bytes [offset, offset + length) of the upload; resolves once the server has them on
   * disk. A source of the wrong length cuts the connection (TftcpSizeMismatchError): the server
   * keeps what it wrote of it.
   */
  put(id: string, offset: number, source: PutSource): Promise<void> {
    return this.enqueue(async () => {
      this.#checkId(id);
      const length = source.length;
      await this.send(`${Command.PUT} ${id} ${offset} ${length}`);
      await this.expect(Reply.OK);
      const data = Buffer.isBuffer(source) ? [source] : source.data;
      try {
        await sendExactly(data as AsyncIterable<Buffer> | Iterable<Buffer>, this.socket, length);
      } catch (error) {
        const cause = this.closeError ?? new TftcpConnectionError(`put to ${id} stopped: ${(error as Error).message}`, { cause: error });
        this.destroy(cause);
        (data as Partial<Readable>).destroy?.();
        if (error instanceof SourceSizeError && cause.cause === error) throw new TftcpSizeMismatchError(id, length, error.received);
        throw cause;
      }
      // The server fsyncs before it answers: no reply timeout for that.
      this.socket.setTimeout(0);
      await this.expect(Reply.STORED);
    });
  }

  /** The byte ranges the server holds of the upload. */
  status(id: string): Promise<ByteRange[]> {
    return this.enqueue(async () => {
      this.#checkId(id);
      await this.send(`${Command.STATUS} ${id}`);
      await this.expect(Reply.OK);
      return this.#readHave();
    });
  }

  /** The byte ranges the server holds of the upload, with its size, name and expiry; or that it was committed. */
  details(id: string): Promise<UploadDetails> {
    return this.enqueue(async () => {
      this.#checkId(id);
      await this.send(`${Command.STATUS} ${id} ${STATUS_DETAILS}`);
      await this.expect(Reply.OK);
      const have = await this.#readHave();
      const line = await this.readLine();
      const partial = parsePartialLine(line);
      if (partial) return { id, have, ...partial, committed: false };
      const committed = parseCommittedLine(line);
      if (committed) return { id, have, ...committed, committed: true };
      throw this.protocolError(`expected "${Reply.PARTIAL} <size> <expires> <name>" or "${Reply.COMMITTED} <size> <name>", got "${line.slice(0, 80)}"`);
    });
  }

  /**
   * Stores the upload under its name. TftcpIncompleteUploadError names what is missing,
   * TftcpChecksumMismatchError means it was discarded, `File already exists` is a TftcpReplyError.
   */
  commit(id: string): Promise<void> {
    return this.enqueue(async () => {
      this.#checkId(id);
      await this.send(`${Command.COMMIT} ${id}`);
      // Hashing and fsync of a large file take a while with nothing on the wire.
      this.socket.setTimeout(0);
      const line = await this.readLine();
      if (line === Reply.END) return;
      const kind = errorKindOf(line);
      if (kind === ErrorKind.CHECKSUM_MISMATCH) throw new TftcpChecksumMismatchError(line);
      const missing = kind === ErrorKind.INCOMPLETE_UPLOAD ? parseRanges(line.slice(`${kind}: missing `.length)) : undefined;
      if (missing) throw new TftcpIncompleteUploadError(line, missing);
      throw new TftcpReplyError(line);
    });
  }

  /** Throws the upload away on the server. */
  abort(id: string): Promise<void> {
    return this.enqueue(async () => {
      this.#checkId(id);
      await this.send(`${Command.ABORT} ${id}`);
      await this.expect(Reply.OK);
    });
  }

  async #readHave(): Promise<ByteRange[]> {
    const line = await this.readLine();
    const have = parseHaveLine(line);
    if (have === undefined) throw this.protocolError(`expected "${Reply.HAVE} <ranges>", got "${line.slice(0, 80)}"`);
    return have;
  }

  #checkId(id: string): void {
    // An id with a space or line break would smuggle more onto the command line.
    if (!isUploadId(id)) throw new TftcpReplyError(`${ErrorKind.UNKNOWN_UPLOAD}: ${JSON.stringify(id.slice(0, 80))} is not an upload id`);
  }
}
