import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { parseSize } from '../../protocol/command-line.js';
import { INVALID_LINE } from '../../protocol/line-reader.js';
import type { Connection } from '../connection.js';
import type { ServerContext } from '../context.js';
import { ReplyError, TransferCutError } from '../errors.js';
import { BatchedFileWriter } from '../file-writer.js';
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
  // The size line has the stall timeout to arrive, in all: trickling its digits does not extend it.
  const line = await conn.nextLine(ctx.config.stallTimeoutMs);
  if (line === null) return 'close';
  const size = line === INVALID_LINE ? undefined : parseSize(line);
  if (size === undefined) throw new ReplyError(errorReply(ErrorKind.INVALID_SIZE, 'send the size in bytes as a decimal number'));
  const limit = ctx.config.maxFileSize;
  if (size > limit) throw new ReplyError(errorReply(ErrorKind.TOO_LARGE, `${size} bytes, the limit is ${limit} bytes`));
  await ctx.storage.assertSpaceFor(size);
  let pending: PendingUpload | undefined;
  try {
    pending = await ctx.storage.createTemp(name);
    await conn.send(Reply.OK);
    const raw = conn.reader.readBytes(size);
    const endTransfer = conn.beginTransfer({ kind: 'uploading', name, total: size, done: () => raw.bytesRead });
    const started = performance.now();
    let writeError: Error | undefined;
    try {
      writeError = await writeAll(raw, pending, conn, name, size, ctx);
    } finally {
      endTransfer();
    }
    if (writeError) {
      ctx.logger.error('upload-failed', { client: conn.label, name, error: writeError.message });
      throw new ReplyError(diskErrorReply(writeError));
    }
    // Every byte is in: the fsyncs of the commit may take long on a slow disk, and must not be cut
    // by the stall timeout (the client would see a failure for an upload that then gets stored).
    conn.activity = { kind: 'command', command: Command.UPLOAD };
    conn.socket.setTimeout(0);
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
  }
}

/**
 * Streams the raw bytes into the temp file. A write error (disk full) does not stop the
 * reading: the rest of the bytes are drained so the connection stays in step and the client
 * gets a reply line. A cut connection throws TransferCutError.
 */
async function writeAll(raw: AsyncIterable<Buffer>, pending: PendingUpload, conn: Connection, name: string, size: number, ctx: ServerContext): Promise<Error | undefined> {
  const writer = new BatchedFileWriter(pending.handle);
  let received = 0;
  try {
    for await (const chunk of raw) {
      received += chunk.length;
      await writer.write(chunk);
    }
  } catch (error) {
    await writer.finish();
    ctx.logger.warn('transfer-cut', { client: conn.label, direction: 'upload', name, bytes: received, of: size, error: (error as Error).message });
    throw new TransferCutError(`upload of ${name} cut after ${received} of ${size} bytes`);
  }
  return writer.finish();
}

function diskErrorReply(error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOSPC' || error.code === 'EDQUOT') return errorReply(ErrorKind.NO_SPACE, 'the upload did not fit and was discarded');
  return errorReply(ErrorKind.SERVER_ERROR, 'the upload could not be stored and was discarded');
}
