import { Command, Reply } from '../../protocol/constants.js';
import { formatFileRow, type FileEntry } from '../../protocol/file-row.js';
import type { CommandConnection, CommandHandler } from './command.js';

/** `show`: every file, one row each, then `end`. */
export const show: CommandHandler = {
  name: Command.SHOW,
  takesArgument: false,
  access: 'read',
  async run(conn, _argument, ctx) {
    const only = conn.session?.only;
    await sendListing(conn, await ctx.store.list(only === undefined ? undefined : { filter: (name) => name === only }));
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
    await sendListing(conn, await ctx.store.list({ filter: (name) => (only === undefined || name === only) && name.toLowerCase().includes(needle) }));
  },
};

function sendListing(conn: CommandConnection, entries: FileEntry[]): Promise<void> {
  return conn.sendLines([Reply.OK, ...entries.map(formatFileRow), Reply.END]);
}
