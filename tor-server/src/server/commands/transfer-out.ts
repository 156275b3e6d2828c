import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { parseRangeArguments } from '../../protocol/command-line.js';
import { fileNameProblem } from '../../protocol/names.js';
import { sendExactly } from '../../protocol/write.js';
import type { Connection } from '../connection.js';
import type { ServerContext } from '../context.js';
import { ReplyError, TransferCutError } from '../errors.js';
import type { CommandHandler } from './command.js';

/** `download <name>`: `ok`, then `found`, the size and the bytes, or `Not found file`. */
export const download: CommandHandler = {
  name: Command.DOWNLOAD,
  takesArgument: true,
  run: (conn, name, ctx) => sendFile(conn, ctx, name, 0, Infinity),
};

/** `range <offset> <length> <name>`: like download, for bytes [offset, offset+length) clipped at the end. */
export const range: CommandHandler = {
  name: Command.RANGE,
  takesArgument: true,
  async run(conn, argument, ctx) {
    const args = parseRangeArguments(argument);
    if (!args) throw new ReplyError(Reply.UNKNOWN);
    return sendFile(conn, ctx, args.name, args.offset, args.length);
  },
};

async function sendFile(conn: Connection, ctx: ServerContext, name: string, offset: number, length: number): Promise<void | 'close'> {
  const problem = fileNameProblem(name);
  if (problem) throw new ReplyError(errorReply(ErrorKind.INVALID_NAME, problem));
  const file = await ctx.storage.openForRead(name).catch((error: NodeJS.ErrnoException) => {
    // Out of file handles, permission denied, an I/O error: the client gets a reply line, not a cut connection.
    ctx.logger.error('open-failed', { client: conn.label, name, error: error.message });
    throw new ReplyError(errorReply(ErrorKind.SERVER_ERROR, `could not open ${name} (${error.code ?? 'error'})`));
  });
  await conn.send(Reply.OK);
  if (!file) return conn.send(Reply.NOT_FOUND);
  // The handle has exactly one owner: this function until a stream is made on it, then the stream,
  // which closes it when it ends or is destroyed. Closing it twice once closed another client's socket.
  let streamOwnsHandle = false;
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
    const source = file.handle.createReadStream({ start: offset, end: offset + count - 1, highWaterMark: 256 * 1024 });
    streamOwnsHandle = true;
    try {
      await sendExactly(source, conn.socket, count, (n) => (sent += n));
    } catch (error) {
      source.destroy();
      ctx.logger.warn('transfer-cut', { client: conn.label, direction: 'download', name, bytes: sent, of: count, error: (error as Error).message });
      throw new TransferCutError(`download of ${name} cut after ${sent} of ${count} bytes`);
    } finally {
      endTransfer();
    }
    logTransfer(ctx, conn, 'download', name, count, started);
  } finally {
    if (!streamOwnsHandle) await file.handle.close().catch(() => {});
  }
}

/** Logs a finished transfer with its duration and rate. */
export function logTransfer(ctx: ServerContext, conn: Connection, direction: string, name: string, bytes: number, started: number): void {
  const ms = performance.now() - started;
  const rate = ms > 0 ? bytes / 1e6 / (ms / 1000) : 0;
  ctx.logger.info('transfer', { client: conn.label, direction, name, bytes, ms: Math.round(ms), rate: `${rate.toFixed(1)}MB/s` });
}
