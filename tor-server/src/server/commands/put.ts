import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import type { ByteRange } from '../../protocol/ranges.js';
import { parsePutArguments } from '../../protocol/resumable.js';
import type { ServerContext } from '../context.js';
import { ReplyError, TransferCutError } from '../errors.js';
import type { Partial } from '../partials/partial.js';
import type { StoreError } from '../store/store.js';
import type { CommandConnection, CommandHandler } from './command.js';
import { partialArgument } from './partial-argument.js';
import { rethrowAsReply } from './store-replies.js';
import { takeChunks } from './take-chunks.js';

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
      await receive(conn, ctx, partial, range);
    } finally {
      partial.unclaim(range);
    }
    // Only now: a client told `stored` may at once commit, or put the range again.
    await conn.send(Reply.STORED);
  },
};

async function receive(conn: CommandConnection, ctx: ServerContext, partial: Partial, range: ByteRange): Promise<void> {
  const [offset, end] = range;
  const writer = await ctx.partials.openWriter(partial, offset).catch((error: StoreError) => {
    ctx.logger.error('put-failed', { client: conn.label, id: partial.id, error: error.message });
    throw new ReplyError(errorReply(ErrorKind.SERVER_ERROR, 'the upload could not be opened: begin again'));
  });
  try {
    await conn.send(Reply.OK);
    const raw = conn.readBytes(end - offset);
    const endTransfer = conn.beginTransfer({ kind: 'uploading', name: partial.name, total: end - offset, done: () => raw.bytesRead });
    let writeError: StoreError | undefined;
    let cut: Error | undefined;
    try {
      await takeChunks(raw, async (chunk) => {
        ctx.metrics.received(chunk.length);
        // After a failed write (disk full) the rest is drained, so the connection stays in step for the reply.
        if (!writeError) await writer.write(chunk).catch((error: StoreError) => (writeError = error));
      });
    } catch (error) {
      cut = error as Error;
    } finally {
      endTransfer();
    }
    // What was written before a cut or a failure is kept: fsynced, then recorded.
    conn.pauseTimeouts();
    await writer.keep().catch((error: StoreError) => (writeError ??= error));
    const { written } = writer;
    if (cut) {
      ctx.logger.warn('transfer-cut', { client: conn.label, direction: 'put', id: partial.id, name: partial.name, bytes: written, of: end - offset, error: cut.message });
      throw new TransferCutError(`put to ${partial.id} cut after ${written} of ${end - offset} bytes`);
    }
    if (writeError) {
      ctx.logger.error('put-failed', { client: conn.label, id: partial.id, name: partial.name, error: writeError.message });
      const kept = `${written} of its ${end - offset} bytes were kept: ask status`;
      throw new ReplyError(errorReply(writeError.kind === 'no-space' ? ErrorKind.NO_SPACE : ErrorKind.SERVER_ERROR, kept));
    }
  } finally {
    await writer.close();
  }
}
