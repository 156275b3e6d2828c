import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { parseSize } from '../../protocol/command-line.js';
import { INVALID_LINE } from '../../protocol/line-reader.js';
import type { ServerContext } from '../context.js';
import { ReplyError, TransferCutError } from '../errors.js';
import { StoreError, type FileName, type Upload } from '../store/store.js';
import type { CommandConnection, CommandHandler } from './command.js';
import { nameArgument } from './name.js';
import { rethrowAsReply, withReason } from './store-replies.js';
import { takeChunks } from './take-chunks.js';
import { logTransfer } from './transfer-log.js';

/**
 * `upload <name>`: `ok`; the client sends its size line; `ok`; the client sends the bytes;
 * `end` once they are durably stored under the name. Until then the name stays free in the
 * store, and a cut connection leaves nothing behind.
 */
export const upload: CommandHandler = {
  name: Command.UPLOAD,
  takesArgument: true,
  access: 'write',
  async run(conn, argument, ctx) {
    const name = nameArgument(argument, conn);
    const { store } = ctx;
    await store.reserve(name).catch(rethrowAsReply);
    try {
      await conn.send(Reply.OK);
      return await receive(conn, ctx, name);
    } finally {
      store.release(name);
    }
  },
};

async function receive(conn: CommandConnection, ctx: ServerContext, name: FileName): Promise<void | 'close'> {
  // The size line has the stall timeout to arrive, in all: trickling its digits does not extend it.
  const line = await conn.readLine(ctx.config.stallTimeoutMs);
  if (line === null) return 'close';
  const size = line === INVALID_LINE ? undefined : parseSize(line);
  if (size === undefined) throw new ReplyError(errorReply(ErrorKind.INVALID_SIZE, 'send the size in bytes as a decimal number'));
  const limit = ctx.config.maxFileSize;
  if (size > limit) throw new ReplyError(errorReply(ErrorKind.TOO_LARGE, `${size} bytes, the limit is ${limit} bytes`));
  await ctx.store.checkSpace(size, 'upload').catch(rethrowAsReply);
  let pending: Upload | undefined;
  try {
    pending = await ctx.store.beginUpload(name, size);
    await conn.send(Reply.OK);
    const raw = conn.readBytes(size);
    const endTransfer = conn.beginTransfer({ kind: 'uploading', name, total: size, done: () => raw.bytesRead });
    const started = performance.now();
    let writeError: StoreError | undefined;
    // Hashed as the bytes pass, so a `hash` of the stored file needs no second read.
    const digest = createHash('sha256');
    try {
      writeError = await writeAll(raw, pending, digest, conn, name, size, ctx);
    } finally {
      endTransfer();
    }
    if (writeError) {
      ctx.logger.error('upload-failed', { client: conn.label, name, error: writeError.message });
      throw new ReplyError(failedUploadReply(writeError));
    }
    // Every byte is in: the fsyncs of the commit may take long on a slow disk, and must not be cut
    // by a timeout (the client would see a failure for an upload that then gets stored).
    conn.pauseTimeouts();
    const hex = digest.digest('hex');
    const stored = await ctx.feed.commitUpload(pending, hex);
    pending = undefined;
    ctx.hashes.put(name, stored.version, hex);
    logTransfer(ctx, conn, 'upload', name, size, started);
    await conn.send(Reply.END);
  } catch (error) {
    if (error instanceof ReplyError || error instanceof TransferCutError) throw error;
    // Something took the name while the bytes arrived (a file put in the folder by hand): never overwritten.
    if (error instanceof StoreError && error.kind === 'exists') throw new ReplyError(errorReply(ErrorKind.FILE_EXISTS, name));
    // Trouble while committing (e.g. the disk filled up during fsync) is still the client's answer.
    ctx.logger.error('upload-failed', { client: conn.label, name, error: (error as Error).message });
    throw new ReplyError(failedUploadReply(error));
  } finally {
    if (pending) await pending.abort();
  }
}

/**
 * Streams the raw bytes into the upload. A write error (disk full) does not stop the reading:
 * the rest of the bytes are drained so the connection stays in step and the client gets a
 * reply line. A cut connection throws TransferCutError.
 */
async function writeAll(raw: Readable, pending: Upload, digest: Hash, conn: CommandConnection, name: string, size: number, ctx: ServerContext): Promise<StoreError | undefined> {
  let received = 0;
  try {
    await takeChunks(raw, async (chunk) => {
      received += chunk.length;
      ctx.metrics.received(chunk.length);
      digest.update(chunk);
      await pending.write(chunk);
    });
  } catch (error) {
    await pending.finish();
    ctx.logger.warn('transfer-cut', { client: conn.label, direction: 'upload', name, bytes: received, of: size, error: (error as Error).message });
    throw new TransferCutError(`upload of ${name} cut after ${received} of ${size} bytes`);
  }
  return pending.finish();
}

function failedUploadReply(error: unknown): string {
  if (error instanceof StoreError && error.kind === 'no-space') return errorReply(ErrorKind.NO_SPACE, 'the upload did not fit and was discarded');
  return errorReply(ErrorKind.SERVER_ERROR, withReason('the upload could not be stored and was discarded', error));
}
