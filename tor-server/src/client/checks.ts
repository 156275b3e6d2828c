import { ErrorKind, errorReply } from '../protocol/constants.js';
import { fileNameProblem } from '../protocol/names.js';
import { TftcpReplyError } from './errors.js';

/**
 * Refuses a name the server would refuse, with the reply it would give, before it is written
 * into a command line. This is the client's boundary, where a caller's string becomes TFTCP: a
 * line break would smuggle a second command onto the connection, and a lone surrogate would be
 * written as U+FFFD, naming another file. Each command checks its name here once, and nothing
 * else in the client does (listing rows are the server's output, checked by parseFileRow). The
 * other boundaries are the tor-server, when a command arrives, and the gateway, when a request
 * arrives (so its refusal comes before any upstream work); nothing between them re-checks.
 */
export function checkFileName(name: string): void {
  const problem = fileNameProblem(name);
  if (problem) throw new TftcpReplyError(errorReply(ErrorKind.INVALID_NAME, problem));
}

/** A connect failure in words a user can act on. */
export function connectProblem(error: NodeJS.ErrnoException, where: string): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `no tor-server is listening at ${where} (connection refused). Is it running, and is the port right?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host in ${where} could not be found. Check the name.`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable from this machine.`;
    default:
      return `could not connect to ${where}: ${error.message}`;
  }
}
