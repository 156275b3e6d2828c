import { Command, Reply } from '../../protocol/constants.js';
import { formatHaveLine } from '../../protocol/resumable.js';
import type { CommandHandler } from './command.js';
import { partialArgument } from './partial-argument.js';

/** `status <id>`: `ok`, then `have <ranges>`, the bytes of the upload stored so far. */
export const status: CommandHandler = {
  name: Command.STATUS,
  takesArgument: true,
  access: 'write',
  async run(conn, argument, ctx) {
    const partial = partialArgument(conn, ctx, argument);
    partial.touch();
    await conn.sendLines([Reply.OK, formatHaveLine(partial.ranges)]);
  },
};
