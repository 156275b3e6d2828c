import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { formatRanges } from '../../protocol/ranges.js';
import type { ServerContext } from '../context.js';
import { ReplyError } from '../errors.js';
import type { Partial } from '../partials/partial.js';
import { StoreError, type Upload } from '../store/store.js';
import type { CommandHandler } from './command.js';
import { partialArgument } from './partial-argument.js';
import { rethrowAsReply, withReason } from './store-replies.js';

/**
 * `commit <id>`: `end` once every byte is there, the sha256 (when announced) matches, and the
 * file is durable and visible under its name, never over another file. A checksum mismatch
 * discards the partial; a missing range or a taken name leaves it as it is.
 */
export const commit: CommandHandler = {
  name: Command.COMMIT,
  takesArgument: true,
  access: 'write',
  async run(conn, argument, ctx) {
    const partial = partialArgument(conn, ctx, argument);
    const missing = partial.missing;
    if (missing.length > 0) throw new ReplyError(errorReply(ErrorKind.INCOMPLETE_UPLOAD, `missing ${formatRanges(missing)}`));
    if (!partial.beginCommit()) throw new ReplyError(errorReply(ErrorKind.RANGE_BUSY, 'a put or commit of this upload is under way: commit after it'));
    // Hashing and fsync take long on a large file; the client waits for the answer.
    conn.pauseTimeouts();
    let finished = false;
    try {
      await ctx.store.reserve(partial.name).catch((error: unknown) => {
        // Taken by a file or by an upload committing right now: the same answer either way.
        if (error instanceof StoreError && error.kind === 'exists') throw new ReplyError(errorReply(ErrorKind.FILE_EXISTS, partial.name));
        rethrowAsReply(error);
      });
      try {
        await store(conn.label, ctx, partial);
        finished = true;
      } finally {
        ctx.store.release(partial.name);
      }
    } finally {
      if (!finished) partial.endCommit();
    }
    await conn.send(Reply.END);
  },
};

async function store(client: string, ctx: ServerContext, partial: Partial): Promise<void> {
  // Every byte is stored: where they wait, they become one whole (an object store completes its multipart upload).
  const hex = await ctx.partials.seal(partial).catch(failed(client, ctx, partial));
  if (partial.sha256 !== undefined && hex !== partial.sha256) {
    await ctx.partials.remove(partial);
    ctx.logger.warn('checksum-mismatch', { client, id: partial.id, name: partial.name, expected: partial.sha256, got: hex });
    throw new ReplyError(errorReply(ErrorKind.CHECKSUM_MISMATCH, `expected ${partial.sha256} got ${hex}`));
  }
  let upload: Upload | undefined;
  try {
    // The sha256 just computed goes into the object's metadata, announced or not.
    upload = await ctx.partials.adopt(partial, hex);
    const stored = await ctx.feed.commitUpload(upload);
    upload = undefined;
    ctx.hashes.put(partial.name, stored.version, hex);
  } catch (error) {
    if (error instanceof StoreError && error.kind === 'exists') throw new ReplyError(errorReply(ErrorKind.FILE_EXISTS, partial.name));
    return failed(client, ctx, partial)(error);
  } finally {
    await upload?.abort();
  }
  await ctx.partials.committedNow(partial);
  ctx.logger.info('upload-committed', { client, id: partial.id, name: partial.name, size: partial.size });
}

/** Logs a failed commit and answers it; the partial stays, so the client may commit again. */
function failed(client: string, ctx: ServerContext, partial: Partial): (error: unknown) => never {
  return (error) => {
    ctx.logger.error('commit-failed', { client, id: partial.id, name: partial.name, error: (error as Error).message });
    const kind = error instanceof StoreError && error.kind === 'no-space' ? ErrorKind.NO_SPACE : ErrorKind.SERVER_ERROR;
    throw new ReplyError(errorReply(kind, withReason('the upload was not stored and is kept: commit again later', error)));
  };
}
