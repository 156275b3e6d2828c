import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { parseSize } from '../../protocol/command-line.js';
import { INVALID_LINE } from '../../protocol/line-reader.js';
import { drained } from '../../protocol/write.js';
import type { Connection } from '../connection.js';
import type { ServerContext } from '../context.js';
import { ReplyError, TransferCutError } from '../errors.js';
import type { PendingUpload } from '../storage.js';
import type { CommandHandler } from './command.js';
import { logTransfer } from './transfer-out.js';

/**
 * `upload <name>`: `ok`; the client sends its size line; `ok`; the client sends the bytes;
 * `end` once they are durably stored under the name. Until then the name stays free on
 * disk, and a cut connection leaves nothing behind.
 */
export const upload: CommandHandler = {
  name: Command.UPLOAD,
  takesArgument: true,
  async run(conn, name, ctx) {
    const { storage } = ctx;
    storage.reserve(name);
    try {
      await storage.assertFree(name);
      await conn.send(Reply.OK);
      return await receive(conn, ctx, name);
    } finally {
      storage.release(name);
    }
  },
};

async function receive(conn: Connection, ctx: ServerContext, name: string): Promise<void | 'close'> {
  conn.stallGuard();
  const line = await conn.reader.nextLine();
  if (line === null) return 'close';
  const size = line === INVALID_LINE ? undefined : parseSize(line);
  if (size === undefined) throw new ReplyError(errorReply(ErrorKind.INVALID_SIZE, 'send the size in bytes as a decimal number'));
  const limit = ctx.config.maxFileSize;
  if (size > limit) throw new ReplyError(errorReply(ErrorKind.TOO_LARGE, `${size} bytes, the limit is ${limit} bytes`));
  const releaseSpace = await ctx.storage.claimSpace(size);
  let pending: PendingUpload | undefined;
  try {
    pending = await ctx.storage.createTemp(name);
    await conn.send(Reply.OK);
    const raw = conn.reader.readBytes(size);
    conn.activity = { kind: 'uploading', name, total: size, done: () => raw.bytesRead };
    const started = performance.now();
    const writeError = await writeAll(raw, pending, conn, name, size, ctx);
    if (writeError) {
      ctx.logger.error('upload-failed', { client: conn.label, name, error: writeError.message });
      throw new ReplyError(diskErrorReply(writeError));
    }
    await ctx.storage.commit(pending);
    pending = undefined;
    logTransfer(ctx, conn, 'upload', name, size, started);
    await conn.send(Reply.END);
  } catch (error) {
    if (error instanceof ReplyError || error instanceof TransferCutError) throw error;
    // Trouble while committing (e.g. the disk filled up during fsync) is still the client's answer.
    ctx.logger.error('upload-failed', { client: conn.label, name, error: (error as Error).message });
    throw new ReplyError(diskErrorReply(error as NodeJS.ErrnoException));
  } finally {
    if (pending) await ctx.storage.discard(pending);
    releaseSpace();
  }
}

const SYNC_EVERY_BYTES = 64 * 1024 * 1024;

/**
 * Streams the raw bytes into the temp file. A write error (disk full) does not stop the
 * reading: the rest of the bytes are drained so the connection stays in step and the client
 * gets a reply line. A cut connection throws TransferCutError.
 */
async function writeAll(raw: AsyncIterable<Buffer>, pending: PendingUpload, conn: Connection, name: string, size: number, ctx: ServerContext): Promise<Error | undefined> {
  // A stream on the bare fd: a FileHandle stream would keep the handle referenced and make close() wait forever.
  const out: WriteStream = createWriteStream('', { fd: pending.handle.fd, autoClose: false, highWaterMark: 256 * 1024 });
  let writeError: Error | undefined;
  out.on('error', (error) => (writeError ??= error));
  let received = 0;
  // Flush to disk while bytes still arrive, so the closing fsync has little left to do.
  let unsynced = 0;
  let syncing: Promise<void> | undefined;
  try {
    for await (const chunk of raw) {
      received += chunk.length;
      if (writeError) continue;
      // A failed write closes the stream, which ends the wait; the error listener has it.
      if (!out.write(chunk)) await drained(out).catch(() => {});
      unsynced += chunk.length;
      if (unsynced >= SYNC_EVERY_BYTES && !syncing) {
        unsynced = 0;
        syncing = pending.handle
          .datasync()
          .catch((error: Error) => void (writeError ??= error))
          .finally(() => (syncing = undefined));
      }
    }
  } catch (error) {
    out.destroy();
    ctx.logger.warn('transfer-cut', { client: conn.label, direction: 'upload', name, bytes: received, of: size, error: (error as Error).message });
    throw new TransferCutError(`upload of ${name} cut after ${received} of ${size} bytes`);
  }
  if (!writeError) {
    out.end();
    await Promise.race([once(out, 'finish'), once(out, 'error')]).catch(() => {});
  }
  await syncing;
  return writeError;
}

function diskErrorReply(error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOSPC' || error.code === 'EDQUOT') return errorReply(ErrorKind.NO_SPACE, 'the upload did not fit and was discarded');
  return errorReply(ErrorKind.SERVER_ERROR, 'the upload could not be stored and was discarded');
}
