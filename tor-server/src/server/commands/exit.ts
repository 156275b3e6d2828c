import { Command, Reply } from '../../protocol/constants.js';
import type { CommandHandler } from './command.js';

/** `exit`: acknowledge, then close the connection. */
export const exit: CommandHandler = {
  name: Command.EXIT,
  takesArgument: false,
  access: 'read',
  beforeSignIn: true,
  async run(conn) {
    await conn.send(Reply.EXIT);
    return 'close';
  },
};
