import { Command, Reply } from '../../protocol/constants.js';
import { formatFileRow, type FileEntry } from '../../protocol/file-row.js';
import type { Connection } from '../connection.js';
import type { CommandHandler } from './command.js';

/** `show`: every file, one row each, then `end`. */
export const show: CommandHandler = {
  name: Command.SHOW,
  takesArgument: false,
  async run(conn, _argument, ctx) {
    await sendListing(conn, await ctx.storage.list());
  },
};

/** `search <text>`: the files whose name contains the text, case-insensitively. */
export const search: CommandHandler = {
  name: Command.SEARCH,
  takesArgument: true,
  async run(conn, text, ctx) {
    await sendListing(conn, await ctx.storage.search(text));
  },
};

async function sendListing(conn: Connection, entries: FileEntry[]): Promise<void> {
  // One write for the whole listing: 10,000 rows as one buffer beat 10,000 tiny writes.
  const rows = entries.map((entry) => `${formatFileRow(entry)}\n`).join('');
  conn.socket.write(`${Reply.OK}\n${rows}`);
  await conn.send(Reply.END);
}
