import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { TftcpReplyError, type TftcpClient } from 'tor-server/client';
import { ErrorKind, errorReply, parseSize } from 'tor-server/protocol';
import { FormField, type UploadResult } from '../api/index.js';
import { GatewayError, asGatewayError, signsOut } from '../errors.js';
import { isClientGone } from './client-gone.js';
import { diedWhileIdle } from './died-while-idle.js';
import { checkFileName } from './names.js';
import { spoolToFile } from './spool.js';
import { checkUploadSize, uploadExactly } from './upload.js';
import type { TransferPool } from './transfer-pool.js';

/** Name of the form field that announces the size of the file part right after it. */
export const SIZE_FIELD = FormField.size;

/** Bytes of parts beyond the file limit read (and dropped) to report them; past this the form is cut. */
const MAX_SKIPPED_BYTES = 16 * 1024 * 1024;

export interface MultipartUploadOptions {
  transferPool: TransferPool;
  maxUploadSize: number;
  /** Most file parts stored from one form; the ones after are reported as not stored. */
  maxFiles: number;
  /** Where parts without a size hint are spooled, and how much room it must keep free. */
  spoolDir: string;
  spoolReserveBytes: number;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** The end user's address, named on the connection opened for the form. */
  clientAddress: string;
  /** Called once the tor-server connection is open, before the body is read (a `100 Continue` goes out then). */
  onReady?(): void;
  /** Called after each file is stored. */
  onStored(result: UploadResult): void;
}

/** What a whole form came to: per-file results and the status to answer with. */
export interface MultipartOutcome {
  status: number;
  files: UploadResult[];
  /** Why the rest of the form was not read, when it was not. */
  stoppedBecause?: string;
  /** The request body was not read to its end: the connection must close after the answer. */
  unread: boolean;
}

interface Outcome {
  result: UploadResult;
  status: number;
}

/**
 * Streams each file part of a multipart form into its own TFTCP upload as it arrives. A
 * `size` field right before a part announces its size, so its bytes go straight through; a
 * part without one is spooled first, once the tor-server says its name is free. A part that
 * fails after all its bytes were read (a size mismatch) does not stop the others. A part
 * refused before its bytes were read (the name exists, too large, invalid) ends the form
 * there: its bytes are never read, the answer lists what was stored and the refusal, and the
 * connection closes. Status: 201 when every file was stored, 207 when some were, and the
 * failure's status when none were.
 */
export async function receiveMultipart(request: FastifyRequest, options: MultipartUploadOptions): Promise<MultipartOutcome> {
  const connection = new FormConnection(options.transferPool, options.signal, options.clientAddress);
  // Connect before reading the body, so a down tor-server is a prompt 503, not one after the upload.
  await connection.get();
  options.onReady?.();
  const outcomes: Outcome[] = [];
  let hint: string | undefined;
  let unread = false;
  let stoppedBecause: string | undefined;
  let skippedBytes = 0;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'field') {
        hint = part.fieldname === SIZE_FIELD ? String(part.value) : undefined;
        continue;
      }
      const announced = hint;
      hint = undefined;
      const name = part.filename ?? '';
      if (outcomes.length >= options.maxFiles) {
        const reason = `not stored: a form may carry at most ${options.maxFiles} files`;
        const size = await skip(part.file as Readable, MAX_SKIPPED_BYTES - skippedBytes);
        outcomes.push({ result: { name, size: size ?? part.file.bytesRead, ok: false, error: reason }, status: 413 });
        if (size === undefined) {
          unread = true;
          stoppedBecause = `the form has more than ${options.maxFiles} files; the rest of it was not read`;
          break;
        }
        skippedBytes += size;
        continue;
      }
      try {
        const size = await storePart(connection, part, name, announced, options);
        const result = { name, size, ok: true };
        outcomes.push({ result, status: 201 });
        options.onStored(result);
      } catch (error) {
        if (isClientGone(error, request)) throw error;
        // After a refusal the connection is still in step; after anything else it may not be,
        // and after a refusal that signed it out it is no longer this user's.
        if (!(error instanceof TftcpReplyError) || signsOut(error)) connection.discard();
        const failure = asGatewayError(error);
        const size = (announced !== undefined && parseSize(announced.trim())) || part.file.bytesRead;
        outcomes.push({ result: { name, size, ok: false, error: failure.message }, status: failure.statusCode });
        // Reading the rest of a refused part only to throw it away is what made a refused
        // upload run to 100% before its answer: stop reading here instead.
        if (!part.file.readableEnded) {
          unread = true;
          break;
        }
      }
    }
  } catch (error) {
    // The form itself broke off (too many parts, malformed, the client left).
    if (outcomes.length === 0 || isClientGone(error, request)) throw error;
    stoppedBecause = asGatewayError(error).message;
    unread = !request.raw.complete;
  } finally {
    connection.release();
  }
  if (outcomes.length === 0) throw new GatewayError('GW_ERR_BAD_REQUEST', 'the form has no file part; send the files as multipart/form-data file fields');
  return { status: formStatus(outcomes), files: outcomes.map((o) => o.result), stoppedBecause, unread };
}

/** 201 when every file was stored, 207 when some were, else the status of the (first) failure. */
export function formStatus(outcomes: readonly { result: { ok: boolean }; status: number }[]): number {
  const stored = outcomes.filter((o) => o.result.ok).length;
  if (stored === outcomes.length) return 201;
  if (stored > 0) return 207;
  return outcomes[0]!.status;
}

/**
 * The form's TFTCP connection: opened when needed (again, if the tor-server closed it for
 * being idle while a slow first part arrived, or closes it just as a command is sent), and
 * given back while a part is spooled, so a slow browser does not hold one of the gateway's
 * few connections while it has nothing to send.
 */
class FormConnection {
  readonly #transferPool: TransferPool;
  readonly #signal: AbortSignal;
  readonly #clientAddress: string;
  #client: TftcpClient | undefined;

  constructor(transferPool: TransferPool, signal: AbortSignal, clientAddress: string) {
    this.#transferPool = transferPool;
    this.#signal = signal;
    this.#clientAddress = clientAddress;
  }

  async get(): Promise<TftcpClient> {
    if (!this.#client || this.#client.closed) this.#client = (await this.#transferPool.start(async () => undefined, this.#signal, undefined, this.#clientAddress)).client;
    return this.#client;
  }

  /**
   * Runs `task` on the connection. The connection waited idle (since it was opened before
   * the body came, or between parts) and the tor-server's deadline may close it just as the
   * command goes out: then `task` runs once more on a fresh connection, provided `moved()`
   * says it had not yet read anything from the browser.
   */
  async run<T>(task: (client: TftcpClient) => Promise<T>, moved: () => boolean = () => false): Promise<T> {
    try {
      return await task(await this.get());
    } catch (error) {
      if (!diedWhileIdle(error) || moved() || this.#signal.aborted) throw error;
      this.discard();
      return await task(await this.get());
    }
  }

  /** Gives the connection back to the transfer pool (a later get() takes one again). */
  release(): void {
    if (this.#client) this.#transferPool.finish(this.#client);
    this.#client = undefined;
  }

  /** Cuts a connection that may be out of step. */
  discard(): void {
    if (this.#client) this.#transferPool.cut(this.#client);
    this.#client = undefined;
  }
}

/** Uploads one file part and returns its size. */
async function storePart(connection: FormConnection, part: MultipartFile, name: string, announced: string | undefined, options: MultipartUploadOptions): Promise<number> {
  if (name === '') throw new GatewayError('GW_ERR_BAD_REQUEST', 'a file part needs a file name (Content-Disposition: form-data; name="file"; filename="...")');
  checkFileName(name);
  if (announced !== undefined) {
    const size = parseSize(announced.trim());
    if (size === undefined) throw new GatewayError('GW_ERR_BAD_REQUEST', errorReply(ErrorKind.INVALID_SIZE, `the ${SIZE_FIELD} field "${announced.slice(0, 40)}" is not a byte count`));
    checkUploadSize(size, options.maxUploadSize);
    let accepted = false;
    await connection.run(
      (client) => uploadExactly(client, name, size, part.file as Readable, () => (accepted = true)),
      () => accepted,
    );
    return size;
  }
  // Without a size the bytes must be spooled before the upload can start: ask the tor-server
  // first whether the name is free, so a taken name is refused before a byte is spooled. It
  // stays the authority and refuses again at upload if the name was taken meanwhile.
  if (await connection.run((client) => client.stat(name))) throw new TftcpReplyError(errorReply(ErrorKind.FILE_EXISTS, name));
  connection.release();
  const spooled = await spoolToFile(part.file as Readable, options.spoolDir, { maxBytes: options.maxUploadSize, reserveBytes: options.spoolReserveBytes });
  const source = createReadStream(spooled.path);
  try {
    let accepted = false;
    await connection.run(
      (client) => uploadExactly(client, name, spooled.size, source, () => (accepted = true)),
      () => accepted,
    );
    return spooled.size;
  } finally {
    source.destroy();
    await spooled.remove();
  }
}

/** Reads and drops a part; its size, or undefined once it passes `budget` bytes (the rest unread). */
async function skip(source: Readable, budget: number): Promise<number | undefined> {
  let size = 0;
  for await (const chunk of source.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > budget) return undefined;
  }
  return size;
}
