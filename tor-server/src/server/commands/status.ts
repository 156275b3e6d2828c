import { Command, Reply } from '../../protocol/constants.js';
import { formatHaveLine, formatPartialLine, parseStatusArgument } from '../../protocol/resumable.js';
import type { CommandHandler } from './command.js';
import { partialArgument } from './partial-argument.js';

/**
 * `status <id>`: `ok`, then `have <ranges>`, the bytes of the upload stored so far.
 * `status <id> details` adds `partial <size> <expires ISO> <name>`, for a client (the gateway's
 * tus endpoint) that keeps nothing of the upload but its id.
 */
export const status: CommandHandler = {
  name: Command.STATUS,
  takesArgument: true,
  access: 'write',
  async run(conn, argument, ctx) {
    const { id, details } = parseStatusArgument(argument);
    const partial = partialArgument(conn, ctx, id);
    partial.touch();
    const lines = [Reply.OK, formatHaveLine(partial.ranges)];
    if (details) {
      const expires = new Date(partial.touchedAt + ctx.config.partialTtlMs).toISOString();
      lines.push(formatPartialLine({ size: partial.size, expires, name: partial.name }));
    }
    await conn.sendLines(lines);
  },
};
