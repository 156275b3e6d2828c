import { SHARE_USED_UP } from '../../protocol/auth.js';
import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { parseRangeArguments } from '../../protocol/command-line.js';
import type { ServerContext } from '../context.js';
import { ReplyError, TransferCutError } from '../errors.js';
import type { FileName } from '../store/store.js';
import type { CommandConnection, CommandHandler } from './command.js';
import { nameArgument } from './name.js';
import { countShareDownload as countInFile } from '../auth/tokens.js';
import { openAfterOk } from './store-replies.js';
import { logTransfer } from './transfer-log.js';

/** `download <name>`: `ok`, then `found`, the size and the bytes, or `Not found file`. */
export const download: CommandHandler = {
  name: Command.DOWNLOAD,
  takesArgument: true,
  access: 'read',
  async run(conn, argument, ctx) {
    // A whole file, sent to the last byte, is one copy toward a share link's maximum.
    await sendCounted(conn, ctx, nameArgument(argument, conn), 0, Infinity, () => true);
  },
};

/** `range <offset> <length> <name>`: like download, for bytes [offset, offset+length) clipped at the end. */
export const range: CommandHandler = {
  name: Command.RANGE,
  takesArgument: true,
  access: 'read',
  async run(conn, argument, ctx) {
    const args = parseRangeArguments(argument);
    if (!args) throw new ReplyError(Reply.UNKNOWN);
    // Ranges count once the bytes they sent add up to a whole copy.
    await sendCounted(conn, ctx, nameArgument(args.name, conn), args.offset, args.length, (share, sent) => ctx.auth.addShareRangeBytes(share, sent.count, sent.size));
  },
};

/**
 * Sends bytes, as sendFile. For a share link's session it holds one of the link's downloads
 * meanwhile (a used-up link serves nothing), and counts a download when the send completed and
 * `wholeCopy` says it made one.
 */
async function sendCounted(
  conn: CommandConnection,
  ctx: ServerContext,
  name: FileName,
  offset: number,
  length: number,
  wholeCopy: (share: string, sent: Sent) => boolean,
): Promise<void> {
  const share = conn.session?.kind === 'share' ? conn.session.id : undefined;
  if (share === undefined) return void (await sendFile(conn, ctx, name, offset, length));
  const release = ctx.auth.holdShareDownload(share);
  if (!release) throw new ReplyError(SHARE_USED_UP);
  try {
    const sent = await sendFile(conn, ctx, name, offset, length);
    if (sent?.complete && wholeCopy(share, sent)) await countShareDownload(ctx, share);
  } finally {
    release();
  }
}

/** What sendFile sent: `count` bytes of a file of `size`, `complete` once every one of them went out. */
interface Sent {
  complete: boolean;
  count: number;
  size: number;
}

/** Sends the bytes asked for; resolves with what was sent, or undefined when nothing was (not found, a bad range). */
async function sendFile(conn: CommandConnection, ctx: ServerContext, name: FileName, offset: number, length: number): Promise<Sent | undefined> {
  const file = await openAfterOk(conn, ctx, name);
  if (!file) return undefined;
  try {
    // An empty file has nothing past its end, but offset 0 of it is still a valid (empty) range.
    if (offset > 0 && offset >= file.size) {
      await conn.send(errorReply(ErrorKind.INVALID_RANGE, `offset ${offset} is past the end of the file (size ${file.size})`));
      return undefined;
    }
    const count = Math.min(length, file.size - offset);
    await conn.send(Reply.FOUND);
    await conn.send(String(count));
    if (count === 0) return { complete: true, count, size: file.size };
    let sent = 0;
    const endTransfer = conn.beginTransfer({ kind: 'downloading', name, total: count, done: () => sent });
    const started = performance.now();
    try {
      await conn.sendBytes(file.read(offset, count), count, (n) => {
        sent += n;
        ctx.metrics.sent(n);
      });
    } catch (error) {
      ctx.logger.warn('transfer-cut', { client: conn.label, direction: 'download', name, bytes: sent, of: count, error: (error as Error).message });
      throw new TransferCutError(`download of ${name} cut after ${sent} of ${count} bytes`);
    } finally {
      endTransfer();
    }
    logTransfer(ctx, conn, 'download', name, count, started);
    return { complete: true, count, size: file.size };
  } finally {
    // Releases the file when no stream took it over; after read() the stream owns it and this does nothing.
    await file.close();
  }
}

async function countShareDownload(ctx: ServerContext, id: string): Promise<void> {
  try {
    await countInFile(ctx.auth.file, id);
    await ctx.auth.reload();
  } catch (error) {
    // The download itself succeeded; the client is not told about the count it cannot help.
    ctx.logger.error('share-count-failed', { share: id, error: (error as Error).message });
  }
}
