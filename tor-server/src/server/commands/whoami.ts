import { Command, Reply } from '../../protocol/constants.js';
import { formatAccessLine } from '../../protocol/changes.js';
import type { CommandHandler } from './command.js';

/** `whoami`: `ok`, then `access <level>`, so a client offers only what it may do. */
export const whoami: CommandHandler = {
  name: Command.WHOAMI,
  takesArgument: false,
  access: 'read',
  async run(conn) {
    await conn.sendLines([Reply.OK, formatAccessLine(conn.access)]);
  },
};
