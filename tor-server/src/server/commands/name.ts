import { ErrorKind, errorReply } from '../../protocol/constants.js';
import { ReplyError } from '../errors.js';
import { toFileName, type FileName } from '../store/store.js';

/** The command's name argument, checked once here against the TFTCP rules; a refused name is the client's reply. */
export function nameArgument(argument: string): FileName {
  const checked = toFileName(argument);
  if (checked.problem !== undefined) throw new ReplyError(errorReply(ErrorKind.INVALID_NAME, checked.problem));
  return checked.name;
}
