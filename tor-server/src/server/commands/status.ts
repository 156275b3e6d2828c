import { Command, Reply } from '../../protocol/constants.js';
import { formatCommittedLine, formatHaveLine, formatPartialLine, parseStatusArgument } from '../../protocol/resumable.js';
import type { ServerContext } from '../context.js';
import type { CommandConnection, CommandHandler } from './command.js';
import { partialArgument } from './partial-argument.js';

/** How long `status <id> details` waits for the upload's puts under way to end. */
export const DETAILS_SETTLE_MS = 2000;

/**
 * `status <id>`: `ok`, then `have <ranges>`, the bytes of the upload stored so far.
 * `status <id> details` adds `partial <size> <expires ISO> <name>`, for a client (the gateway's
 * tus endpoint) that keeps nothing of the upload but its id; it first waits (a bounded time)
 * for puts of the upload under way to end, so that the bytes a put cut a moment ago kept are in
 * the ranges: a tus client resuming right after a cut then sends none of them again. An upload
 * committed within the TTL answers `have 0-<size>` and `committed <size> <name>` there (plain
 * `status` calls it unknown, as before): a client whose `commit` answer was lost learns it is done.
 */
export const status: CommandHandler = {
  name: Command.STATUS,
  takesArgument: true,
  access: 'write',
  async run(conn, argument, ctx) {
    const { id, details } = parseStatusArgument(argument);
    if (details && (await answeredCommitted(conn, ctx, id))) return;
    let partial = partialArgument(conn, ctx, id);
    if (details) {
      await partial.settled(DETAILS_SETTLE_MS);
      // Committed or aborted meanwhile.
      if (await answeredCommitted(conn, ctx, id)) return;
      partial = partialArgument(conn, ctx, id);
    }
    partial.touch();
    const lines = [Reply.OK, formatHaveLine(partial.ranges)];
    if (details) {
      const expires = new Date(ctx.partials.expiresAt(partial)).toISOString();
      lines.push(formatPartialLine({ size: partial.size, expires, name: partial.name }));
    }
    await conn.sendLines(lines);
  },
};

/** Answers `status <id> details` of an upload committed within the TTL; false when it is none. */
async function answeredCommitted(conn: CommandConnection, ctx: ServerContext, id: string): Promise<boolean> {
  const committed = ctx.partials.committed(conn.owner, id);
  if (!committed) return false;
  const ranges: [number, number][] = committed.size > 0 ? [[0, committed.size]] : [];
  await conn.sendLines([Reply.OK, formatHaveLine(ranges), formatCommittedLine(committed)]);
  return true;
}
