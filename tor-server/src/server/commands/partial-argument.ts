import { ErrorKind, errorReply } from '../../protocol/constants.js';
import { isUploadId } from '../../protocol/resumable.js';
import type { ServerContext } from '../context.js';
import { ReplyError } from '../errors.js';
import type { Partial } from '../partials/partial.js';
import type { CommandConnection } from './command.js';

/** The client's partial upload with this id; `Unknown upload` (also for another owner's id) when there is none. */
export function partialArgument(conn: CommandConnection, ctx: ServerContext, id: string): Partial {
  const partial = isUploadId(id) ? ctx.partials.get(conn.owner, id) : undefined;
  if (!partial) throw new ReplyError(errorReply(ErrorKind.UNKNOWN_UPLOAD, 'no upload of yours has this id (it may have expired, been committed or aborted): begin again'));
  return partial;
}
