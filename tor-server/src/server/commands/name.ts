import { onlyFileReply } from '../../protocol/auth.js';
import { ErrorKind, errorReply } from '../../protocol/constants.js';
import { ReplyError } from '../errors.js';
import { toFileName, type FileName } from '../store/store.js';
import type { CommandConnection } from './command.js';

/**
 * The command's name argument, checked once here against the TFTCP rules and against the one
 * file a token may be limited to; a refused name is the client's reply.
 */
export function nameArgument(argument: string, conn: Pick<CommandConnection, 'session'>): FileName {
  const checked = toFileName(argument);
  if (checked.problem !== undefined) throw new ReplyError(errorReply(ErrorKind.INVALID_NAME, checked.problem));
  const only = conn.session?.only;
  if (only !== undefined && checked.name !== only) throw new ReplyError(onlyFileReply(only));
  return checked.name;
}
