import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TftcpClient } from '../client/tftcp-client.js';
import { TftcpConnectionError, TftcpReplyError } from '../client/errors.js';
import { ErrorKind, errorKindOf } from '../protocol/constants.js';
import type { ByteRange } from '../protocol/ranges.js';
import type { TransferHooks } from './transfers.js';

const MIB = 1024 * 1024;
/** Files larger than this go by begin/put/commit; smaller ones by the seed's one-shot `upload`. */
export const RESUMABLE_THRESHOLD = 8 * MIB;
/** The file is read, hashed and sent in parts of this size; each connection holds one part at a time. */
export const PART_SIZE = 8 * MIB;
/** Tries of one put (the first and the retries) before the upload gives up on a lost connection. */
const PUT_ATTEMPTS = 4;
/** The wait before the first retry of a put; it doubles for each further one. */
const RETRY_BASE_MS = 250;

/** What a resumable upload needs from the CLI's session. */
export interface ResumableUploadContext {
  /** The command connection (begin, commit, hash), reconnected when it was lost. */
  control(): Promise<TftcpClient>;
  /** A new connection for puts, owned by the caller. */
  connect(): Promise<TftcpClient>;
  /** Connections sending parts at once. */
  parallel: number;
  hooks: TransferHooks;
  /** Told the bytes the server already had when the upload resumed one it had a part of. */
  resumed?(stored: number): void;
  signal?: AbortSignal;
}

/** What a finished resumable upload did. */
export interface ResumableUploadResult {
  name: string;
  size: number;
  /** Bytes the server already had from an earlier attempt. */
  resumedFrom: number;
  /** The sha256 both the local file and the server's file have. */
  sha256: string;
}

/** After the upload the server's file has another sha256 than the local file. */
export class ServerFileDiffersError extends Error {
  readonly code = 'TOR_ERR_VERIFY';
}

/**
 * Uploads `size` bytes of the open file `handle` as `name` with begin/put/commit over
 * `parallel` connections, resuming a partial the server holds of the same name and size.
 * The sha256 is computed while reading (no pass over the file before the first byte goes out)
 * and compared with the server's `hash` after `commit`. Progress counts only bytes the server
 * answered `stored` for. On any failure the partial stays on the server for the next attempt.
 */
export async function uploadResumable(context: ResumableUploadContext, handle: FileHandle, name: string, size: number): Promise<ResumableUploadResult> {
  // `-`: the sha256 is not known yet, and hashing first is what users complain about.
  const { id, have } = await (await context.control()).begin(name, size);
  const resumedFrom = rangeBytes(have);
  if (resumedFrom > 0) context.resumed?.(resumedFrom);
  context.hooks.start?.(size, resumedFrom);

  const hash = createHash('sha256');
  const reader = new PartReader(handle, size, have, hash);
  let acknowledged = resumedFrom;
  const stored = (bytes: number) => {
    acknowledged += bytes;
    context.hooks.progress?.(acknowledged);
  };
  const senders = Array.from({ length: context.parallel }, () => new PartSender(context, id, stored));
  // Ctrl-C (or a failed sender) cuts every connection at once, so no put lingers.
  const stopAll = () => senders.forEach((sender) => sender.destroy());
  context.signal?.addEventListener('abort', stopAll, { once: true });
  let failure: { error: unknown } | undefined;
  try {
    // Every sender is waited for, even after one failed, so none still reads the file or holds a
    // connection once this returns (the caller closes the file handle).
    await Promise.allSettled(
      senders.map((sender) =>
        sender.run(reader).catch((error: unknown) => {
          failure ??= { error };
          reader.stop();
          stopAll();
        }),
      ),
    );
  } finally {
    context.signal?.removeEventListener('abort', stopAll);
    stopAll();
  }
  if (failure) throw failure.error;

  const sha256 = hash.digest('hex');
  const control = await context.control();
  await control.commit(id);
  const server = await control.hash(name);
  if (server !== sha256) {
    const theirs = server === undefined ? `${name} is no longer on the server` : `the server's file ${name} has sha256 ${server}`;
    throw new ServerFileDiffersError(`Verification failed: the local file has sha256 ${sha256}, but ${theirs}: the server file differs from the local one. Check the local file did not change during the upload, then delete the server's copy and upload again.`);
  }
  return { name, size, resumedFrom, sha256 };
}

/** One part of the file, read into a sender's buffer, with the ranges of it the server lacks. */
interface Part {
  offset: number;
  data: Buffer;
  missing: ByteRange[];
}

/**
 * Reads the file once, in order, part by part, feeding every byte to the hash. Parts the server
 * already has whole are read and hashed but not handed out: the sha256 must cover the whole file,
 * and reading local disk again is far cheaper than sending those bytes again.
 */
class PartReader {
  readonly #handle: FileHandle;
  readonly #size: number;
  readonly #have: ByteRange[];
  readonly #hash: Hash;
  #offset = 0;
  #stopped = false;
  /** Reads one at a time, so the hash sees the bytes in file order. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(handle: FileHandle, size: number, have: ByteRange[], hash: Hash) {
    this.#handle = handle;
    this.#size = size;
    this.#have = have;
    this.#hash = hash;
  }

  /** The next part with bytes the server lacks, read into `buffer`; undefined at the end. */
  next(buffer: Buffer): Promise<Part | undefined> {
    const turn = this.#queue.then(() => this.#read(buffer));
    this.#queue = turn.catch(() => {});
    return turn;
  }

  /** No more parts after a failure. */
  stop(): void {
    this.#stopped = true;
  }

  async #read(buffer: Buffer): Promise<Part | undefined> {
    while (!this.#stopped && this.#offset < this.#size) {
      const offset = this.#offset;
      const length = Math.min(buffer.length, this.#size - offset);
      const data = buffer.subarray(0, length);
      await readFully(this.#handle, data, offset);
      this.#hash.update(data);
      this.#offset += length;
      const missing = subtract([offset, offset + length], this.#have);
      if (missing.length > 0) return { offset, data, missing };
    }
    return undefined;
  }
}

/** One connection's loop: take a part, put its missing ranges, until the reader runs out. */
class PartSender {
  readonly #context: ResumableUploadContext;
  readonly #id: string;
  readonly #stored: (bytes: number) => void;
  readonly #buffer = Buffer.allocUnsafe(PART_SIZE);
  #client: TftcpClient | undefined;
  #destroyed = false;

  constructor(context: ResumableUploadContext, id: string, stored: (bytes: number) => void) {
    this.#context = context;
    this.#id = id;
    this.#stored = stored;
  }

  async run(reader: PartReader): Promise<void> {
    for (let part = await reader.next(this.#buffer); part; part = await reader.next(this.#buffer)) {
      for (const range of part.missing) await this.#putWithRetries(part, range);
    }
  }

  /** Cuts this sender's connection; it sends nothing more. */
  destroy(): void {
    this.#destroyed = true;
    this.#client?.destroy(new TftcpConnectionError('cancelled'));
  }

  /**
   * Puts `range` of the part; a lost connection, or a range the server is still finishing from
   * a cut connection (`Range busy`), is tried again on a new connection after a growing pause,
   * sending only what the server does not have by then.
   */
  async #putWithRetries(part: Part, range: ByteRange): Promise<void> {
    let pending = [range];
    for (let attempt = 1; ; attempt++) {
      try {
        const client = await this.#connection();
        while (pending.length > 0) {
          const [start, end] = pending[0]!;
          await client.put(this.#id, start, part.data.subarray(start - part.offset, end - part.offset));
          pending.shift();
          this.#stored(end - start);
        }
        return;
      } catch (error) {
        if (this.#destroyed || this.#context.signal?.aborted || attempt >= PUT_ATTEMPTS || !retryable(error)) throw error;
        this.#client?.destroy();
        this.#client = undefined;
        await sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
        // A cut put keeps what reached the server's disk: send only the rest.
        const have = await this.#status();
        if (have) {
          const before = rangeBytes(pending);
          pending = pending.flatMap((r) => subtract(r, have));
          this.#stored(before - rangeBytes(pending));
        }
      }
    }
  }

  /** What the server has now, asked on a new connection; undefined when that fails too (the put retry will say). */
  async #status(): Promise<ByteRange[] | undefined> {
    try {
      return await (await this.#connection()).status(this.#id);
    } catch {
      this.#client?.destroy();
      this.#client = undefined;
      return undefined;
    }
  }

  async #connection(): Promise<TftcpClient> {
    if (this.#destroyed) throw new TftcpConnectionError('cancelled');
    if (this.#client && !this.#client.closed) return this.#client;
    const client = await this.#context.connect();
    // Destroyed while connecting: the new connection must not outlive the upload.
    if (this.#destroyed) {
      client.destroy();
      throw new TftcpConnectionError('cancelled');
    }
    this.#client = client;
    return client;
  }
}

/** A lost connection, or a range another (cut) connection is still finishing on the server. */
function retryable(error: unknown): boolean {
  if (error instanceof TftcpConnectionError) return true;
  return error instanceof TftcpReplyError && errorKindOf(error.reply) === ErrorKind.RANGE_BUSY;
}

/** Reads exactly `data.length` bytes at `position` (a read may return fewer). */
async function readFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length; ) {
    const { bytesRead } = await handle.read(data, done, data.length - done, position + done);
    if (bytesRead === 0) throw new Error(`the local file ended at ${position + done} bytes, before its size when the upload began: it changed meanwhile; run the upload again`);
    done += bytesRead;
  }
}

/** Total bytes of sorted, disjoint ranges. */
function rangeBytes(ranges: ByteRange[]): number {
  return ranges.reduce((sum, [start, end]) => sum + end - start, 0);
}

/** The parts of `range` that none of the sorted, disjoint `have` ranges cover. */
export function subtract(range: ByteRange, have: ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  let [start] = range;
  const end = range[1];
  for (const [haveStart, haveEnd] of have) {
    if (haveEnd <= start) continue;
    if (haveStart >= end) break;
    if (haveStart > start) out.push([start, haveStart]);
    start = Math.max(start, haveEnd);
  }
  if (start < end) out.push([start, end]);
  return out;
}
