import type { CommandName } from '../../protocol/constants.js';
import type { Connection } from '../connection.js';
import type { ServerContext } from '../context.js';

/** One TFTCP command: its word, whether it takes an argument, and what it does. */
export interface CommandHandler {
  readonly name: CommandName;
  readonly takesArgument: boolean;
  /**
   * Carries the command out, writing its replies. Throws a ReplyError to refuse it with a
   * reply line (connection stays usable); returns 'close' to end the connection.
   */
  run(conn: Connection, argument: string, ctx: ServerContext): Promise<void | 'close'>;
}
