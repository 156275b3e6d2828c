import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { ReplyError } from '../errors.js';
import type { CommandHandler } from './command.js';
import { partialArgument } from './partial-argument.js';

/** `abort <id>`: `ok` once the partial upload and its bytes are gone. */
export const abort: CommandHandler = {
  name: Command.ABORT,
  takesArgument: true,
  access: 'write',
  async run(conn, argument, ctx) {
    const partial = partialArgument(conn, ctx, argument);
    // A put in flight would go on writing into a file about to vanish: it has to end first.
    if (!partial.beginCommit()) throw new ReplyError(errorReply(ErrorKind.RANGE_BUSY, 'a put or commit of this upload is under way: abort after it'));
    await ctx.partials.remove(partial);
    ctx.logger.info('upload-aborted', { client: conn.label, id: partial.id, name: partial.name });
    await conn.send(Reply.OK);
  },
};
