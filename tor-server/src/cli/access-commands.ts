import { TftcpError, TftcpReplyError } from '../client/errors.js';
import { parseShareArgument } from '../protocol/auth.js';
import { printable } from '../protocol/printable.js';
import { singleArgument, splitWords } from '../protocol/words.js';
import type { Session } from './commands.js';
import { ExitCode, type CliOutput, type CommandOutcome } from './outcome.js';
import { notFound } from './file-commands.js';

const SHARE_USAGE = 'share NAME [--expires 7d] [--max-downloads N], share list, or share revoke ID';

/** The server refused the token the CLI signs in with; the message says so, with the server's words. */
export class SignInRefusedError extends TftcpError {
  constructor(reply: string) {
    super('TOR_ERR_SIGN_IN', `Sign-in refused: ${reply}. Check the token (--token or TOR_TOKEN), or ask for a new one.`);
  }
}

/** `auth TOKEN` at the prompt: signs the connection in, and every reconnect after it. */
export async function signIn(session: Session, argument: string, io: CliOutput, signal: AbortSignal | undefined): Promise<CommandOutcome> {
  const words = splitWords(argument);
  if (words?.length !== 1) {
    io.err('auth needs one token: auth <token>');
    return { code: ExitCode.USAGE };
  }
  const client = await session.client(signal);
  try {
    const who = await client.auth(words[0]!);
    session.token = words[0];
    io.out(`Signed in as ${printable(who.label)} (${who.access})`);
    return { code: ExitCode.OK };
  } catch (error) {
    if (error instanceof TftcpReplyError) throw new SignInRefusedError(error.reply);
    throw error;
  }
}

/** `share NAME [--expires 7d] [--max-downloads N]`, `share list`, `share revoke ID`. */
export async function shareCommand(session: Session, argument: string, io: CliOutput, signal: AbortSignal | undefined): Promise<CommandOutcome> {
  const words = splitWords(argument) ?? [];
  const client = await session.client(signal);
  if (words.length === 1 && words[0] === 'list') {
    const shares = await client.shares();
    if (shares.length === 0) io.out('No share links.');
    for (const s of shares) io.out(`${s.id}  ${printable(s.name)}  expires ${s.expires ?? 'never'}  downloads ${s.downloads}/${s.maxDownloads ?? 'unlimited'}`);
    return { code: ExitCode.OK };
  }
  if (words.length === 2 && words[0] === 'revoke') {
    if (!(await client.unshare(words[1]!))) return notFound(io);
    io.out(`Revoked share link ${printable(words[1]!)}`);
    return { code: ExitCode.OK };
  }
  const request = parseShareArgument(argument);
  const name = request && singleArgument(request.name);
  if (!request || !name) {
    io.err(`Usage: ${SHARE_USAGE}`);
    return { code: ExitCode.USAGE };
  }
  const share = await client.share({ ...request, name });
  if (!share) return notFound(io);
  const limits = `expires ${share.expires ?? 'never'}, ${share.maxDownloads === null ? 'unlimited downloads' : `at most ${share.maxDownloads} downloads`}`;
  io.out(`Share link for ${printable(name)} (${limits}); sign in with it to read that one file:\n${share.token}`);
  return { code: ExitCode.OK };
}
