import { Readable, Writable } from 'node:stream';
import { MAX_LINE_BYTES } from './constants.js';

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A line longer than the limit arrived; the peer is not speaking TFTCP sensibly. */
export class LineTooLongError extends Error {
  readonly code = 'TOR_ERR_LINE_TOO_LONG';
  constructor(limit: number) {
    super(`line longer than ${limit} bytes`);
  }
}

/** A line that is not valid UTF-8. It is returned as this value so the caller can answer it. */
export const INVALID_LINE: unique symbol = Symbol('invalid UTF-8 line');

/** The input ended in the middle of a raw byte transfer. */
export class TruncatedError extends Error {
  readonly code = 'TOR_ERR_TRUNCATED';
  constructor(missing: number) {
    super(`connection closed with ${missing} bytes of the transfer still to come`);
  }
}

/** A readable of exactly `size` raw bytes handed out by {@link LineReader.readBytes}. */
export interface RawBytes extends Readable {
  /** Bytes handed to the consumer so far. */
  readonly bytesRead: number;
  /**
   * Hands every further byte to `sink` as it arrives instead of through the stream, which then
   * only ends (or fails). `sink` must be done with a chunk when it returns (the memory may be
   * reused for the next read), and holds the input while it runs: that is its backpressure. A
   * sink that throws fails the stream with that error. Call it before reading the stream.
   */
  sendTo(sink: (chunk: Buffer) => void): void;
}

/**
 * What {@link LineReader.feed} did with the bytes: all handed to a raw sink (the memory may be
 * reused), kept (the reader holds on to them), or kept and the reader wants no more for now.
 */
export type FeedResult = 'reuse' | 'keep' | 'pause';

interface Waiter {
  resolve(line: string | typeof INVALID_LINE | null): void;
  reject(error: Error): void;
}

interface RawMode {
  stream: Readable & { bytesRead: number };
  /** Where the bytes go instead of the stream, once {@link RawBytes.sendTo} was called. */
  sink?: (chunk: Buffer) => void;
  remaining: number;
  /** The consumer asked for more; false while it applies backpressure. */
  wanted: boolean;
}

/**
 * The TFTCP framing, as a writable you pipe a socket into (or {@link LineReader.feed} from a
 * socket's `onread`). It has two modes: lines
 * (LF-terminated, CR stripped, at most `maxLineBytes`), and exactly N raw bytes handed out
 * as a readable stream, after which it returns to lines. Bytes are only accepted from the
 * writer when a consumer needs them, so a slow consumer pushes back on the socket.
 */
export class LineReader extends Writable {
  readonly maxLineBytes: number;
  #buffer: Buffer = EMPTY;
  #writeDone: ((error?: Error | null) => void) | null = null;
  #ended = false;
  #failure: Error | null = null;
  #waiter: Waiter | null = null;
  #raw: RawMode | null = null;
  #discarding = false;

  constructor(options: { maxLineBytes?: number } = {}) {
    super({ highWaterMark: 64 * 1024 });
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  /** Resolves with the next line, INVALID_LINE for bytes that are not UTF-8, or null at the end of input. */
  nextLine(): Promise<string | typeof INVALID_LINE | null> {
    if (this.#waiter || this.#raw) return Promise.reject(new Error('LineReader is already busy'));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#deliver();
    });
  }

  /** Hands out the next `size` bytes as a stream; lines resume after its last byte. */
  readBytes(size: number): RawBytes {
    if (this.#waiter || this.#raw) throw new Error('LineReader is already busy');
    const stream = new Readable({
      highWaterMark: 64 * 1024,
      read: () => {
        if (this.#raw?.stream === stream) {
          this.#raw.wanted = true;
          this.#deliver();
        }
      },
    }) as Readable & { bytesRead: number; sendTo(sink: (chunk: Buffer) => void): void };
    stream.bytesRead = 0;
    stream.sendTo = (sink) => this.#sendTo(stream, sink);
    if (size === 0) {
      stream.push(null);
      return stream;
    }
    this.#raw = { stream, remaining: size, wanted: true };
    // A consumer that gives up (destroys the stream) must not leave the reader stuck in raw mode.
    stream.once('close', () => {
      if (this.#raw?.stream === stream) this.#raw = null;
    });
    queueMicrotask(() => this.#deliver());
    return stream;
  }

  #sendTo(stream: Readable, sink: (chunk: Buffer) => void): void {
    try {
      // Bytes the stream took before the sink came go first (read() also takes the buffered rest).
      for (let chunk: Buffer | null; (chunk = stream.read() as Buffer | null) !== null; ) sink(chunk);
    } catch (error) {
      if (this.#raw?.stream === stream) this.#raw = null;
      stream.destroy(error as Error);
      return;
    }
    // Flowing, so the stream's end is emitted although no data passes through it.
    stream.resume();
    if (this.#raw?.stream !== stream) return;
    this.#raw.sink = sink;
    this.#deliver();
  }

  /**
   * Stops framing and swallows all further input. Used while closing a connection, so the
   * peer's unread bytes do not make the kernel reset it before it has read our last reply.
   */
  discardInput(): void {
    this.#discarding = true;
    this.#buffer = EMPTY;
    this.#writeDone?.();
    this.#writeDone = null;
  }

  /**
   * Takes bytes straight from a socket read. While a raw sink (RawBytes.sendTo) is waiting, they
   * go to it without a copy; the rest the reader keeps. On 'pause' (more than its high-water
   * mark waits unread) it wants no more until it calls `resume` (once).
   */
  feed(bytes: Buffer, resume: () => void): FeedResult {
    if (this.#discarding) return 'reuse';
    const raw = this.#raw;
    if (raw?.sink && this.#buffer.length === 0) {
      const take = Math.min(raw.remaining, bytes.length);
      this.#toSink(raw, bytes.subarray(0, take));
      if (take === bytes.length) return 'reuse';
      bytes = bytes.subarray(take);
    }
    this.#buffer = this.#buffer.length === 0 ? bytes : Buffer.concat([this.#buffer, bytes]);
    let hungry = false;
    this.#writeDone = () => (hungry = true);
    this.#deliver();
    // As a piped writable would, it takes up to its high-water mark unasked: a peer's last line
    // and its close are then still seen while nobody reads (an idle connection the server ends).
    if (hungry || this.#buffer.length < this.writableHighWaterMark) {
      this.#writeDone = null;
      return 'keep';
    }
    this.#writeDone = resume;
    return 'pause';
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.#discarding) return done();
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    this.#writeDone = done;
    this.#deliver();
  }

  override _final(done: (error?: Error | null) => void): void {
    this.#ended = true;
    this.#deliver();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.#ended = true;
    this.#failure = error;
    this.#deliver();
    done(error);
  }

  /** Moves buffered bytes to whoever waits for them, then asks the writer for more if needed. */
  #deliver(): void {
    if (this.#raw) this.#deliverRaw(this.#raw);
    if (!this.#raw && this.#waiter) this.#deliverLine(this.#waiter);
    const hungry = this.#buffer.length === 0 || this.#waiter !== null || (this.#raw !== null && (this.#raw.wanted || this.#raw.sink !== undefined));
    if (hungry && this.#writeDone) {
      const done = this.#writeDone;
      this.#writeDone = null;
      done();
    }
  }

  #deliverRaw(raw: RawMode): void {
    while ((raw.wanted || raw.sink) && raw.remaining > 0 && this.#buffer.length > 0) {
      const take = Math.min(raw.remaining, this.#buffer.length);
      const piece = this.#buffer.subarray(0, take);
      this.#buffer = take === this.#buffer.length ? EMPTY : this.#buffer.subarray(take);
      if (raw.sink) {
        this.#toSink(raw, piece);
        if (this.#raw !== raw) return;
        continue;
      }
      raw.remaining -= take;
      raw.stream.bytesRead += take;
      raw.wanted = raw.stream.push(piece);
    }
    if (raw.remaining === 0) {
      this.#raw = null;
      raw.stream.push(null);
    } else if (this.#ended && this.#buffer.length < raw.remaining) {
      // The input is over and can never complete the transfer: fail it now, even while the
      // consumer is paused, so a reader that is not reading still learns the connection is gone.
      this.#raw = null;
      this.#buffer = EMPTY;
      raw.stream.destroy(this.#failure ?? new TruncatedError(raw.remaining));
    }
  }

  /** Gives `piece` (at most what the transfer still needs) to the raw sink; ends the transfer after its last byte. */
  #toSink(raw: RawMode, piece: Buffer): void {
    try {
      raw.sink!(piece);
    } catch (error) {
      // Its owner learns the error from the stream; the bytes still to come are no longer anyone's.
      this.#raw = null;
      raw.stream.destroy(error as Error);
      return;
    }
    raw.remaining -= piece.length;
    raw.stream.bytesRead += piece.length;
    if (raw.remaining === 0) {
      this.#raw = null;
      raw.stream.push(null);
    }
  }

  #deliverLine(waiter: Waiter): void {
    const end = this.#buffer.indexOf(LF);
    if (end === -1) {
      // Allow one extra byte for a CR that may precede the LF still to come.
      if (this.#buffer.length > this.maxLineBytes + 1) return this.#settle(waiter, new LineTooLongError(this.maxLineBytes));
      if (this.#ended) {
        if (this.#failure) return this.#settle(waiter, this.#failure);
        // A last line without LF is incomplete; TFTCP lines always end in LF.
        this.#buffer = EMPTY;
        return this.#settle(waiter, null);
      }
      return;
    }
    let line = this.#buffer.subarray(0, end);
    this.#buffer = end + 1 === this.#buffer.length ? EMPTY : this.#buffer.subarray(end + 1);
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, -1);
    if (line.length > this.maxLineBytes) return this.#settle(waiter, new LineTooLongError(this.maxLineBytes));
    let text: string | typeof INVALID_LINE;
    try {
      text = utf8.decode(line);
    } catch {
      text = INVALID_LINE;
    }
    this.#settle(waiter, text);
  }

  #settle(waiter: Waiter, outcome: string | typeof INVALID_LINE | null | Error): void {
    this.#waiter = null;
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }
}
