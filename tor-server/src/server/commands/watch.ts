import { Command, Reply } from '../../protocol/constants.js';
import { formatChangeLine, formatWatchingLine, parseSeq } from '../../protocol/changes.js';
import { ReplyError } from '../errors.js';
import type { CommandHandler } from './command.js';

/** Bytes of event lines a watcher may leave unread; one more event and it is cut. */
export const WATCH_MAX_UNSENT_BYTES = 1024 * 1024;

/**
 * `watch [since]`: `ok`, `watching <seq>`, then (with `since`) the changes missed after it or
 * `resync`, then every change as it happens, until the client sends `exit` or leaves. Other
 * lines get `This command does not exist, rewrite`, between the events.
 */
export const watch: CommandHandler = {
  name: Command.WATCH,
  takesArgument: 'optional',
  access: 'read',
  async run(conn, argument, ctx) {
    const since = argument === '' ? undefined : parseSeq(argument);
    if (argument !== '' && since === undefined) throw new ReplyError(Reply.UNKNOWN);
    conn.beginWatch();
    await conn.send(Reply.OK);
    let cut = false;
    const push = (line: string) => {
      if (cut || conn.sendNow(line) <= WATCH_MAX_UNSENT_BYTES) return;
      // Never buffered without bound: a watcher that does not read is let go, and can resume with its last seq.
      cut = true;
      subscription.stop();
      ctx.logger.warn('watcher-cut', { client: conn.label, reason: `more than ${WATCH_MAX_UNSENT_BYTES} bytes of changes unread` });
      conn.cut();
    };
    // From subscribing to the last missed line nothing awaits, so no live change can slip in between.
    const subscription = ctx.feed.subscribe(since, (change) => push(formatChangeLine(change)));
    push(formatWatchingLine(subscription.seq));
    if (subscription.missed === 'resync') push(Reply.RESYNC);
    else for (const change of subscription.missed) push(formatChangeLine(change));
    ctx.logger.info('watch', { client: conn.label, since, seq: subscription.seq, replayed: subscription.missed === 'resync' ? 'resync' : subscription.missed.length });
    try {
      for (;;) {
        const line = await conn.readLine(Infinity);
        if (line === null || cut) return 'close';
        if (line === Command.EXIT) {
          subscription.stop();
          await conn.send(Reply.EXIT);
          return 'close';
        }
        push(Reply.UNKNOWN);
      }
    } finally {
      subscription.stop();
    }
  },
};
