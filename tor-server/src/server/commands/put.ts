import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import type { ByteRange } from '../../protocol/ranges.js';
import { parsePutArguments } from '../../protocol/resumable.js';
import type { ServerContext } from '../context.js';
import { ReplyError, TransferCutError } from '../errors.js';
import type { Partial } from '../partials/partial.js';
import { storeErrorOf } from '../store/fs-upload.js';
import type { StoreError } from '../store/store.js';
import type { CommandConnection, CommandHandler } from './command.js';
import { partialArgument } from './partial-argument.js';
import { rethrowAsReply } from './store-replies.js';

const USAGE = errorReply(ErrorKind.INVALID_RANGE, 'send put <id> <offset> <length>');

/**
 * `put <id> <offset> <length>`: `ok`, the client sends exactly `length` bytes, then `stored` once
 * they are fsynced and recorded. Refused before `ok` (nothing sent, nothing changed) past the
 * size, for an unknown or foreign id, and when another connection writes part of the range.
 * A put cut midway keeps the bytes that were written before the cut, fsynced and recorded then.
 */
export const put: CommandHandler = {
  name: Command.PUT,
  takesArgument: true,
  access: 'write',
  async run(conn, argument, ctx) {
    const args = parsePutArguments(argument);
    if (!args) throw new ReplyError(USAGE);
    const partial = partialArgument(conn, ctx, args.id);
    const { offset, length } = args;
    if (offset + length > partial.size) throw new ReplyError(errorReply(ErrorKind.INVALID_RANGE, `${offset}-${offset + length} is past the upload's size of ${partial.size} bytes`));
    const range: ByteRange = [offset, offset + length];
    if (!partial.claim(range)) throw new ReplyError(errorReply(ErrorKind.RANGE_BUSY, `${range[0]}-${range[1]} is being written by another connection: send it later`));
    try {
      await ctx.store.checkSpace(length).catch(rethrowAsReply);
      return await receive(conn, ctx, partial, range);
    } finally {
      partial.unclaim(range);
    }
  },
};

async function receive(conn: CommandConnection, ctx: ServerContext, partial: Partial, range: ByteRange): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(partial.dataPath, fsc.O_WRONLY | fsc.O_NOFOLLOW);
  } catch (error) {
    ctx.logger.error('put-failed', { client: conn.label, id: partial.id, error: (error as Error).message });
    throw new ReplyError(errorReply(ErrorKind.SERVER_ERROR, 'the upload could not be opened: begin again'));
  }
  const [offset, end] = range;
  try {
    await conn.send(Reply.OK);
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
  const raw = conn.readBytes(end - offset);
  const endTransfer = conn.beginTransfer({ kind: 'uploading', name: partial.name, total: end - offset, done: () => raw.bytesRead });
  // Bytes written at [offset, offset + written): only those can be recorded, and only once synced.
  let written = 0;
  let writeError: StoreError | undefined;
  let cut: Error | undefined;
  try {
    for await (const chunk of raw) {
      ctx.metrics.received(chunk.length);
      // After a failed write (disk full) the rest is drained, so the connection stays in step for the reply.
      if (writeError) continue;
      try {
        await writeFully(handle, chunk, offset + written);
        written += chunk.length;
      } catch (error) {
        writeError = storeErrorOf(error);
      }
    }
  } catch (error) {
    cut = error as Error;
  } finally {
    endTransfer();
  }
  try {
    conn.pauseTimeouts();
    if (written > 0) {
      await handle.datasync();
      await partial.addStored([offset, offset + written]);
    } else partial.touch();
  } catch (error) {
    writeError ??= storeErrorOf(error);
  } finally {
    await handle.close().catch(() => {});
  }
  if (cut) {
    ctx.logger.warn('transfer-cut', { client: conn.label, direction: 'put', id: partial.id, name: partial.name, bytes: written, of: end - offset, error: cut.message });
    throw new TransferCutError(`put to ${partial.id} cut after ${written} of ${end - offset} bytes`);
  }
  if (writeError) {
    ctx.logger.error('put-failed', { client: conn.label, id: partial.id, name: partial.name, error: writeError.message });
    const kept = `${written} of its ${end - offset} bytes were kept: ask status`;
    throw new ReplyError(writeError.kind === 'no-space' ? errorReply(ErrorKind.NO_SPACE, kept) : errorReply(ErrorKind.SERVER_ERROR, kept));
  }
  await conn.send(Reply.STORED);
}

/** Writes all of `chunk` at `position` (a positional write may take part of it). */
async function writeFully(handle: fs.FileHandle, chunk: Buffer, position: number): Promise<void> {
  for (let done = 0; done < chunk.length; ) {
    const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, position + done);
    done += bytesWritten;
  }
}
