import { ErrorKind, errorReply, type ErrorKindText } from '../../protocol/constants.js';
import { ReplyError } from '../errors.js';
import { StoreError, type StoreErrorKind } from '../store/store.js';

// Store refusals a client is told as they are; the rest (`unavailable`) each command words itself.
const REPLY_KINDS: Partial<Record<StoreErrorKind, ErrorKindText>> = {
  exists: ErrorKind.FILE_EXISTS,
  'no-space': ErrorKind.NO_SPACE,
  'invalid-name': ErrorKind.INVALID_NAME,
};

/** Rethrows a store refusal as the client's reply line (kind, then the store's detail); any other error unchanged. */
export function rethrowAsReply(error: unknown): never {
  const kind = error instanceof StoreError ? REPLY_KINDS[error.kind] : undefined;
  if (kind !== undefined) throw new ReplyError(errorReply(kind, (error as StoreError).message));
  throw error;
}
