import { TftcpConnectionError, TftcpReplyError } from 'tor-server/client';
import { ErrorKind } from 'tor-server/protocol';

/**
 * True for a failure that says the connection was already dead when the command was sent: it
 * is lost, or the server's goodbye (idle or first-command deadline, shutdown) was read as the
 * answer to a command sent just as it closed. Such a command is worth one retry on a fresh
 * connection, as long as it had moved no bytes.
 */
export function diedWhileIdle(error: unknown): boolean {
  if (error instanceof TftcpConnectionError) return true;
  return error instanceof TftcpReplyError && (error.kind === ErrorKind.IDLE_TIMEOUT || error.kind === ErrorKind.SHUTTING_DOWN);
}
