import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { parseRenameArgument } from '../../protocol/changes.js';
import { deleteFile, renameFile } from '../changes/file-ops.js';
import { ReplyError } from '../errors.js';
import { StoreError } from '../store/store.js';
import type { CommandHandler } from './command.js';
import { nameArgument } from './name.js';
import { withReason } from './store-replies.js';

/** `delete <name>`: `ok`, then `deleted` or `Not found file`. A download under way still gets every byte. */
export const remove: CommandHandler = {
  name: Command.DELETE,
  takesArgument: true,
  access: 'admin',
  async run(conn, argument, ctx) {
    const name = nameArgument(argument, conn);
    const deleted = await deleteFile(ctx, name).catch((error: unknown) => {
      ctx.logger.error('delete-failed', { client: conn.label, name, error: (error as Error).message });
      throw new ReplyError(errorReply(ErrorKind.SERVER_ERROR, withReason(`could not delete ${name}`, error)));
    });
    if (deleted) ctx.logger.info('deleted', { client: conn.label, name });
    await conn.sendLines([Reply.OK, deleted ? Reply.DELETED : Reply.NOT_FOUND]);
  },
};

/**
 * `rename <old><TAB><new>`: `ok`, then `renamed`, `Not found file`, or `File already exists: <new>`.
 * Never overwrites; of two renames to one new name, exactly one wins.
 */
export const rename: CommandHandler = {
  name: Command.RENAME,
  takesArgument: true,
  access: 'admin',
  async run(conn, argument, ctx) {
    const names = parseRenameArgument(argument);
    if (!names) throw new ReplyError(Reply.UNKNOWN);
    const from = nameArgument(names.from, conn);
    const to = nameArgument(names.to, conn);
    let outcome: string;
    try {
      const renamed = await renameFile(ctx, from, to);
      if (renamed) ctx.logger.info('renamed', { client: conn.label, from, to });
      outcome = renamed ? Reply.RENAMED : Reply.NOT_FOUND;
    } catch (error) {
      if (error instanceof StoreError && error.kind === 'exists') outcome = errorReply(ErrorKind.FILE_EXISTS, error.message);
      else {
        ctx.logger.error('rename-failed', { client: conn.label, from, to, error: (error as Error).message });
        throw new ReplyError(errorReply(ErrorKind.SERVER_ERROR, withReason(`could not rename ${from}`, error)));
      }
    }
    await conn.sendLines([Reply.OK, outcome]);
  },
};
