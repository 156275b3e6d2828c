import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENT_NOT_TRUSTED, CLIENT_TOO_LATE, SHARE_USED_UP, SignInRefusal, TOKEN_EXPIRED_AT_SIGN_IN, formatSignedInLine, tooManyAttemptsReply } from '../../protocol/auth.js';
import { Command, Reply } from '../../protocol/constants.js';
import { ReplyError } from '../errors.js';
import { clientAddress } from '../client-address.js';
import type { CommandConnection, CommandHandler } from './command.js';

/** How long a refused sign-in holds its connection before closing it, so guessing tokens is slow. */
export const SIGN_IN_FAILURE_DELAY_MS = 1000;

/**
 * `auth <token>`: `ok`, then `signed in as <label> (<level>)`. A token the server does not know
 * gets `Invalid token` and the connection closes after a short delay; past the limit of failures
 * from one address, `Too many attempts: retry in N s` without the token being looked at.
 */
export const auth: CommandHandler = {
  name: Command.AUTH,
  takesArgument: true,
  access: 'read',
  beforeSignIn: true,
  async run(conn, token, ctx) {
    const { auth: authority, logger } = ctx;
    const address = conn.userAddress;
    const wait = authority.signIns.retryInSeconds(address);
    if (wait > 0) {
      logger.warn('sign-in-limited', { client: conn.label, address, retry_s: wait });
      return refuseAndClose(conn, tooManyAttemptsReply(wait));
    }
    const succeeded = authority.signIns.attempt(address);
    const result = await authority.signIn(token);
    if ('record' in result) {
      succeeded();
      conn.signIn(result.record);
      logger.info('signed-in', { client: conn.label, token: result.record.label, kind: result.record.kind, access: result.record.access });
      return conn.sendLines([Reply.OK, formatSignedInLine(result.record.label, result.record.access)]);
    }
    // A real token, only expired or used up: not a guess.
    if (result.refused === 'expired' || result.refused === 'used up') succeeded();
    if (result.refused === 'expired') throw new ReplyError(TOKEN_EXPIRED_AT_SIGN_IN);
    if (result.refused === 'used up') throw new ReplyError(SHARE_USED_UP);
    // Never the token itself: a typo of a real one is most of it.
    logger.warn('sign-in-failed', { client: conn.label, address });
    return refuseAndClose(conn, SignInRefusal.INVALID_TOKEN);
  },
};

async function refuseAndClose(conn: CommandConnection, reply: string): Promise<'close'> {
  await conn.send(reply);
  await sleep(SIGN_IN_FAILURE_DELAY_MS, undefined, { signal: conn.signal }).catch(() => {});
  return 'close';
}

/**
 * `client <address>`, from a trusted proxy only and before `auth`: the end user's address, which
 * failed sign-ins are counted and logged by from then on. Answers `ok`.
 */
export const client: CommandHandler = {
  name: Command.CLIENT,
  takesArgument: true,
  access: 'read',
  beforeSignIn: true,
  async run(conn, address, ctx) {
    if (!conn.fromTrustedProxy) throw new ReplyError(CLIENT_NOT_TRUSTED);
    if (isIP(address) === 0) throw new ReplyError(Reply.UNKNOWN);
    // As a socket's address is written (no ::ffff: prefix), so one user is one address to the limits.
    if (conn.session !== undefined || !conn.setUserAddress(clientAddress(address))) throw new ReplyError(CLIENT_TOO_LATE);
    ctx.logger.info('client-named', { client: conn.label, address });
    await conn.send(Reply.OK);
  },
};
