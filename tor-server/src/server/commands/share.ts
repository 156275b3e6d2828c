import { formatShareLine, formatShareRow, parseShareArgument } from '../../protocol/auth.js';
import { Command, Reply } from '../../protocol/constants.js';
import { parseDuration } from '../../protocol/duration.js';
import { TokenError, addToken, revokeTokens, shareInfo } from '../auth/tokens.js';
import type { TokenRecord } from '../auth/token-file.js';
import type { ServerContext } from '../context.js';
import { ReplyError } from '../errors.js';
import type { CommandConnection, CommandHandler } from './command.js';
import { nameArgument } from './name.js';

/** The creator a share made by a client not signed in (open mode) records: such clients manage such links. */
export const OPEN_CREATOR = 'open';

/**
 * `share <name> [--expires 7d] [--max-downloads N]`: `ok`, then `share <token> <expires ISO or
 * never> <max or unlimited>`, or `ok` then `Not found file`. The token reads that one file only.
 */
export const share: CommandHandler = {
  name: Command.SHARE,
  takesArgument: true,
  access: 'write',
  async run(conn, argument, ctx) {
    const request = parseShareArgument(argument);
    if (!request) throw new ReplyError(Reply.UNKNOWN);
    const name = nameArgument(request.name, conn);
    if (!(await ctx.store.stat(name))) return conn.sendLines([Reply.OK, Reply.NOT_FOUND]);
    const { record, token } = await addToken(ctx.auth.file, {
      label: name,
      access: 'read',
      kind: 'share',
      only: name,
      expiresInMs: shareLifetime(ctx, conn, request.expires === undefined ? undefined : parseDuration(request.expires)),
      maxDownloads: request.maxDownloads,
      createdBy: creatorOf(conn),
    });
    await ctx.auth.reload();
    ctx.logger.info('shared', { client: conn.label, name, share: record.id, expires: record.expires ?? 'never', max_downloads: record.maxDownloads ?? 'unlimited' });
    await conn.sendLines([Reply.OK, formatShareLine(token, record.expires, record.maxDownloads)]);
  },
};

/** `shares`: `ok`, one row per share link the caller made (an admin: every one), then `end`. */
export const shares: CommandHandler = {
  name: Command.SHARES,
  takesArgument: false,
  access: 'write',
  async run(conn, _argument, ctx) {
    const rows = ctx.auth.records.filter((r) => r.kind === 'share' && mayManage(conn, r)).map((r) => formatShareRow(shareInfo(r)));
    await conn.sendLines([Reply.OK, ...rows, Reply.END]);
  },
};

/** `unshare <id>`: `ok`, then `deleted` (the link no longer signs in), or `ok` then `Not found file`. Its creator or an admin only. */
export const unshare: CommandHandler = {
  name: Command.UNSHARE,
  takesArgument: true,
  access: 'write',
  async run(conn, id, ctx) {
    if (!(await revokeShare(ctx, conn, id))) return conn.sendLines([Reply.OK, Reply.NOT_FOUND]);
    await conn.sendLines([Reply.OK, Reply.DELETED]);
  },
};

async function revokeShare(ctx: ServerContext, conn: CommandConnection, id: string): Promise<boolean> {
  try {
    // Someone else's share is as invisible to the caller as one that does not exist.
    await revokeTokens(ctx.auth.file, id, { kind: 'share', allowed: (r) => mayManage(conn, r) });
  } catch (error) {
    if (error instanceof TokenError) return false;
    throw error;
  }
  await ctx.auth.reload();
  ctx.logger.info('unshared', { client: conn.label, share: id });
  return true;
}

/** Who made a share, as its record keeps it: the token's id, or OPEN_CREATOR for a client not signed in (null is the operator). */
function creatorOf(conn: CommandConnection): string {
  return conn.session?.id ?? OPEN_CREATOR;
}

/** An admin manages every link; anyone else those they made (never the operator's). */
function mayManage(conn: CommandConnection, record: TokenRecord): boolean {
  return conn.access === 'admin' || (record.createdBy !== null && record.createdBy === creatorOf(conn));
}

/** A link lives no longer than the token that made it: asked for longer (or forever), it ends with it. */
function shareLifetime(ctx: ServerContext, conn: CommandConnection, askedMs: number | undefined): number | undefined {
  const creatorExpires = conn.session ? ctx.auth.record(conn.session.id)?.expires : null;
  if (!creatorExpires) return askedMs;
  const leftMs = Date.parse(creatorExpires) - Date.now();
  return askedMs === undefined ? leftMs : Math.min(askedMs, leftMs);
}
