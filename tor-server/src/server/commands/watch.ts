import { onlyFileReply } from '../../protocol/auth.js';
import { Command, Reply } from '../../protocol/constants.js';
import { formatChangeLine, formatWatchingLine, parseSeq, type FileChange } from '../../protocol/changes.js';
import { sessionCheck } from '../auth/session-check.js';
import { ReplyError } from '../errors.js';
import type { CommandHandler } from './command.js';

/** Bytes of event lines a watcher may leave unread; one more event and it is cut. */
export const WATCH_MAX_UNSENT_BYTES = 1024 * 1024;

/** Each change's event line, made once however many watchers send it (or replay it); forgotten with the change. */
const eventLines = new WeakMap<FileChange, string>();

/** The event line of `change`, formatted on first use and shared from then on (changes are never modified). */
export function eventLine(change: FileChange): string {
  let line = eventLines.get(change);
  if (line === undefined) {
    line = formatChangeLine(change);
    eventLines.set(change, line);
  }
  return line;
}

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
    // The feed names every file; a token limited to one file must not learn the others.
    const only = conn.session?.only;
    if (only !== undefined) throw new ReplyError(onlyFileReply(only));
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
    // A token revoked or expired since the watch began (or sign-in made required) ends it at the
    // next change, with the refusal a command would get: the names stop flowing.
    const signedOut = (): boolean => {
      const refusal = sessionCheck(conn.session, ctx.auth);
      if (!refusal) return false;
      cut = true;
      subscription.stop();
      ctx.logger.info('watch-ended', { client: conn.label, reason: refusal.reply });
      conn.sendNow(refusal.reply);
      conn.close();
      return true;
    };
    // From subscribing to the last missed line nothing awaits, so no live change can slip in between.
    const subscription = ctx.feed.subscribe(since, (change) => {
      if (!cut && !signedOut()) push(eventLine(change));
    });
    push(formatWatchingLine(subscription.seq));
    for (const line of replayLines(subscription.missed)) push(line);
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

/**
 * The lines that bring a resuming watcher up to date: the missed changes, or `resync` when
 * they are not known any more, or when sending them would take more than half of the unsent
 * bound (the watcher would be cut, and come back with the same since, again and again).
 */
export function replayLines(missed: FileChange[] | 'resync', budget = WATCH_MAX_UNSENT_BYTES / 2): string[] {
  if (missed === 'resync') return [Reply.RESYNC];
  const lines: string[] = [];
  let bytes = 0;
  for (const change of missed) {
    const line = eventLine(change);
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > budget) return [Reply.RESYNC];
    lines.push(line);
  }
  return lines;
}
