import { ErrorKind, errorReply } from '../protocol/constants.js';
import { fileNameProblem } from '../protocol/names.js';
import { TftcpReplyError } from './errors.js';

/**
 * Refuses a name the server would refuse, with the reply it would give, before it is written
 * into a command line. This is the client's boundary, where a caller's string becomes TFTCP: a
 * line break would smuggle a second command onto the connection, and a lone surrogate would be
 * written as U+FFFD, naming another file. Each command checks its name here once, and nothing
 * else in the client does (listing rows are the server's output, checked by parseFileRow). A
 * caller that checked its names where its requests arrive (the gateway) connects with
 * `namesChecked` and skips this; the tor-server checks again when the command arrives.
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
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `the tor-server at ${where} has a certificate this client does not trust (${error.code}). Give the CA that signed it (tor-client --ca FILE), or its own certificate if it is self-signed.`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `the certificate of the tor-server at ${where} is not made out to that name (${error.message}). Connect by a name the certificate lists.`;
    case 'CERT_HAS_EXPIRED':
      return `the certificate of the tor-server at ${where} has expired. Its operator must renew it.`;
    case 'CERT_NOT_YET_VALID':
      return `the certificate of the tor-server at ${where} is not valid yet. Check this machine's clock.`;
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return `${where} did not answer in TLS (${error.message}). Is it a plain TFTCP port? Try without --tls, or the server's TLS port.`;
    default:
      return `could not connect to ${where}: ${error.message}`;
  }
}
