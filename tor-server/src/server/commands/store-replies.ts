import { ErrorKind, Reply, errorReply, type ErrorKindText } from '../../protocol/constants.js';
import type { ServerContext } from '../context.js';
import { ReplyError } from '../errors.js';
import { StoreError, type FileName, type StoreErrorKind, type StoredFile } from '../store/store.js';
import type { CommandConnection } from './command.js';

// Store refusals a client is told as they are; the rest (`unavailable`) each command words itself.
const REPLY_KINDS: Partial<Record<StoreErrorKind, ErrorKindText>> = {
  exists: ErrorKind.FILE_EXISTS,
  'no-space': ErrorKind.NO_SPACE,
  'invalid-name': ErrorKind.INVALID_NAME,
  // The store could not be reached or failed (an S3 engine down, a folder unreadable): a reply, not a cut connection.
  unavailable: ErrorKind.SERVER_ERROR,
};

/** Rethrows a store refusal as the client's reply line (kind, then the store's detail); any other error unchanged. */
export function rethrowAsReply(error: unknown): never {
  const kind = error instanceof StoreError ? REPLY_KINDS[error.kind] : undefined;
  if (kind !== undefined) throw new ReplyError(errorReply(kind, (error as StoreError).message));
  throw error;
}

/** `text` with the store's account of what went wrong in brackets (`could not delete a.txt (the S3 engine failed (503))`), when it gave one. */
export function withReason(text: string, error: unknown): string {
  const reason = error instanceof StoreError ? error.reason : undefined;
  return reason === undefined ? text : `${text} (${reason})`;
}

/**
 * Opens a file a client asked for; undefined when no file has the name. Out of file handles,
 * permission denied, an I/O error: the client gets a `Server error` reply line, not a cut connection.
 */
export function openForClient(conn: CommandConnection, ctx: ServerContext, name: FileName): Promise<StoredFile | undefined> {
  return ctx.store.openRead(name).catch((error: StoreError) => {
    ctx.logger.error('open-failed', { client: conn.label, name, error: error.message });
    throw new ReplyError(errorReply(ErrorKind.SERVER_ERROR, withReason(`could not open ${name}`, error)));
  });
}

/**
 * Opens a file for a command that answers `ok` first (download, range, hash): sends `ok`, and
 * `Not found file` when no file has the name (then resolves undefined). Otherwise the caller
 * owns the open file from here on; a client gone before `ok` leaves nothing open.
 */
export async function openAfterOk(conn: CommandConnection, ctx: ServerContext, name: FileName): Promise<StoredFile | undefined> {
  const file = await openForClient(conn, ctx, name);
  if (!file) {
    await conn.send(Reply.OK);
    await conn.send(Reply.NOT_FOUND);
    return undefined;
  }
  try {
    await conn.send(Reply.OK);
  } catch (error) {
    await file.close();
    throw error;
  }
  return file;
}
