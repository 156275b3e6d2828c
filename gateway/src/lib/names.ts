import { Command, ErrorKind, MAX_LINE_BYTES, errorReply, fileNameProblem } from 'tor-server/protocol';
import { GatewayError } from '../errors.js';

/**
 * The gateway's one name check, where a request arrives: refuses a file name the tor-server
 * would refuse before any upstream work. Its TFTCP clients connect with `namesChecked` and send
 * the name as it is, so this check is also what keeps a name with a line break from smuggling
 * a second command onto a connection.
 */
export function checkFileName(name: string): void {
  const problem = fileNameProblem(name);
  if (problem) throw new GatewayError('GW_ERR_INVALID_NAME', errorReply(ErrorKind.INVALID_NAME, problem));
}

// `search <text>` must fit in one command line.
const MAX_SEARCH_BYTES = MAX_LINE_BYTES - Command.SEARCH.length - 1;

/** Why a search text cannot be sent as a TFTCP `search` argument, or undefined when it can. */
export function searchTextProblem(text: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(text)) return 'the search text must not contain control characters';
  if (!text.isWellFormed()) return 'the search text is not valid UTF-8';
  if (Buffer.byteLength(text, 'utf8') > MAX_SEARCH_BYTES) return `the search text is longer than ${MAX_SEARCH_BYTES} bytes`;
  return undefined;
}
