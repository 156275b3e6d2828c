import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { parseRangeArguments } from '../../protocol/command-line.js';
import type { ServerContext } from '../context.js';
import { ReplyError, TransferCutError } from '../errors.js';
import type { FileName } from '../store/store.js';
import type { CommandConnection, CommandHandler } from './command.js';
import { nameArgument } from './name.js';
import { openAfterOk } from './store-replies.js';
import { logTransfer } from './transfer-log.js';

/** `download <name>`: `ok`, then `found`, the size and the bytes, or `Not found file`. */
export const download: CommandHandler = {
  name: Command.DOWNLOAD,
  takesArgument: true,
  access: 'read',
  run: (conn, argument, ctx) => sendFile(conn, ctx, nameArgument(argument), 0, Infinity),
};

/** `range <offset> <length> <name>`: like download, for bytes [offset, offset+length) clipped at the end. */
export const range: CommandHandler = {
  name: Command.RANGE,
  takesArgument: true,
  access: 'read',
  async run(conn, argument, ctx) {
    const args = parseRangeArguments(argument);
    if (!args) throw new ReplyError(Reply.UNKNOWN);
    return sendFile(conn, ctx, nameArgument(args.name), args.offset, args.length);
  },
};

async function sendFile(conn: CommandConnection, ctx: ServerContext, name: FileName, offset: number, length: number): Promise<void | 'close'> {
  const file = await openAfterOk(conn, ctx, name);
  if (!file) return;
  try {
    // An empty file has nothing past its end, but offset 0 of it is still a valid (empty) range.
    if (offset > 0 && offset >= file.size) {
      return await conn.send(errorReply(ErrorKind.INVALID_RANGE, `offset ${offset} is past the end of the file (size ${file.size})`));
    }
    const count = Math.min(length, file.size - offset);
    await conn.send(Reply.FOUND);
    await conn.send(String(count));
    if (count === 0) return;
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
  } finally {
    // Releases the file when no stream took it over; after read() the stream owns it and this does nothing.
    await file.close();
  }
}
