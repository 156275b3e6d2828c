import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { formatHaveLine, parseBeginArguments } from '../../protocol/resumable.js';
import { ReplyError } from '../errors.js';
import type { CommandHandler } from './command.js';
import { nameArgument } from './name.js';
import { rethrowAsReply } from './store-replies.js';

/**
 * `begin <size> <sha256 or -> <name>`: `ok`, `upload <id>`, `have <ranges>`. The name is checked
 * as for `upload`; the owner's partial upload with the same name, size and sha256 is resumed.
 */
export const begin = beginCommand(Command.BEGIN, true);

/** `create <size> <sha256 or -> <name>`: as `begin`, always a new upload (`have none`), never mixed with another of that name. */
export const create = beginCommand(Command.CREATE, false);

function beginCommand(word: typeof Command.BEGIN | typeof Command.CREATE, resume: boolean): CommandHandler {
  const usage = errorReply(ErrorKind.INVALID_SIZE, `send ${word} <size> <sha256 in hex, or -> <name>`);
  return {
    name: word,
    takesArgument: true,
    access: 'write',
    async run(conn, argument, ctx) {
      const args = parseBeginArguments(argument);
      if (!args) throw new ReplyError(usage);
      const name = nameArgument(args.name, conn);
      const limit = ctx.config.maxFileSize;
      if (args.size > limit) throw new ReplyError(errorReply(ErrorKind.TOO_LARGE, `${args.size} bytes, the limit is ${limit} bytes`));
      if (await ctx.store.stat(name).catch(rethrowAsReply)) throw new ReplyError(errorReply(ErrorKind.FILE_EXISTS, name));
      const begun = await ctx.partials.begin(conn.owner, name, args.size, args.sha256, resume).catch((error: unknown) => {
        ctx.logger.error('begin-failed', { client: conn.label, name, error: (error as Error).message });
        return rethrowAsReply(error);
      });
      if (begun === 'too-many') {
        throw new ReplyError(errorReply(ErrorKind.TOO_MANY_UPLOADS, `at most ${ctx.config.maxPartialsPerOwner}: commit or abort one first`));
      }
      const { partial, resumed } = begun;
      // Bytes count as they arrive: only what is still missing has to fit.
      if (!resumed) {
        await ctx.store.checkSpace(partial.size).catch(async (error: unknown) => {
          await ctx.partials.remove(partial);
          rethrowAsReply(error);
        });
      }
      ctx.logger.info(resumed ? 'upload-resumed' : 'upload-begun', { client: conn.label, id: partial.id, name, size: partial.size, stored: partial.stored });
      await conn.sendLines([Reply.OK, `${Reply.UPLOAD_ID} ${partial.id}`, formatHaveLine(partial.ranges)]);
    },
  };
}
