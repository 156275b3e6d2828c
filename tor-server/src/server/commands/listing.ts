import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { formatFileRow, type FileEntry } from '../../protocol/file-row.js';
import type { ServerContext } from '../context.js';
import { ReplyError } from '../errors.js';
import { StoreError, type ListOptions } from '../store/store.js';
import type { CommandConnection, CommandHandler } from './command.js';

/** `show`: every file, one row each, then `end`. */
export const show: CommandHandler = {
  name: Command.SHOW,
  takesArgument: false,
  access: 'read',
  async run(conn, _argument, ctx) {
    const only = conn.session?.only;
    await sendListing(conn, await listFor(conn, ctx, only === undefined ? undefined : { filter: (name) => name === only }));
  },
};

/** `search <text>`: the files whose name contains the text, case-insensitively. */
export const search: CommandHandler = {
  name: Command.SEARCH,
  takesArgument: true,
  access: 'read',
  async run(conn, text, ctx) {
    const needle = text.toLowerCase();
    const only = conn.session?.only;
    await sendListing(conn, await listFor(conn, ctx, { filter: (name) => (only === undefined || name === only) && name.toLowerCase().includes(needle) }));
  },
};

/** The store's listing; a store that cannot list (an object store out of reach) is the client's `Server error` line. */
function listFor(conn: CommandConnection, ctx: ServerContext, options: ListOptions | undefined): Promise<FileEntry[]> {
  return ctx.store.list(options).catch((error: unknown) => {
    if (!(error instanceof StoreError)) throw error;
    ctx.logger.error('list-failed', { client: conn.label, error: error.message });
    throw new ReplyError(errorReply(ErrorKind.SERVER_ERROR, `could not list the files (${error.reason ?? 'error'})`));
  });
}

function sendListing(conn: CommandConnection, entries: FileEntry[]): Promise<void> {
  return conn.sendLines([Reply.OK, ...entries.map(formatFileRow), Reply.END]);
}
