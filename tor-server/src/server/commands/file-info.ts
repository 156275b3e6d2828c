import { Command, ErrorKind, Reply, errorReply } from '../../protocol/constants.js';
import { formatHashLine } from '../../protocol/changes.js';
import { formatFileRow } from '../../protocol/file-row.js';
import { ReplyError } from '../errors.js';
import { HashAbandonedError } from '../hash/hash-cache.js';
import type { StoreError, StoredFile } from '../store/store.js';
import type { CommandHandler } from './command.js';
import { nameArgument } from './name.js';
import { openAfterOk, openForClient } from './store-replies.js';

/** How often one `hash` command starts a computation that others' leaving stopped, before it reports a server error. */
const HASH_ATTEMPTS = 3;

/** `stat <name>`: `ok`, then the file's listing row or `Not found file`. */
export const stat: CommandHandler = {
  name: Command.STAT,
  takesArgument: true,
  access: 'read',
  async run(conn, argument, ctx) {
    const name = nameArgument(argument, conn);
    const entry = await ctx.store.stat(name).catch((error: StoreError) => {
      ctx.logger.error('stat-failed', { client: conn.label, name, error: error.message });
      throw new ReplyError(errorReply(ErrorKind.SERVER_ERROR, `could not read the details of ${name} (${error.reason ?? 'error'})`));
    });
    await conn.sendLines([Reply.OK, entry ? formatFileRow(entry) : Reply.NOT_FOUND]);
  },
};

/**
 * `hash <name>`: `ok`, then `sha256 <hex>` or `Not found file`. The digest is remembered under
 * the file's version, so an unchanged file is read once; a client that leaves stops the reading.
 */
export const hash: CommandHandler = {
  name: Command.HASH,
  takesArgument: true,
  access: 'read',
  async run(conn, argument, ctx) {
    const name = nameArgument(argument, conn);
    const file = await openAfterOk(conn, ctx, name);
    if (!file) return;
    // Reading a large file takes a while with nothing to send: the idle timeout must not cut it.
    conn.pauseTimeouts();
    const started = performance.now();
    let hashed: StoredFile | undefined = file;
    let result;
    for (let attempt = 1; !result; attempt++) {
      try {
        result = await ctx.hashes.digest(name, hashed, conn.signal);
      } catch (error) {
        if (error instanceof HashAbandonedError && conn.signal.aborted) return 'close';
        // A computation stopped because every other client left, while this one is still here: start again.
        if (error instanceof HashAbandonedError && attempt < HASH_ATTEMPTS) {
          hashed = await openForClient(conn, ctx, name);
          if (!hashed) return conn.send(Reply.NOT_FOUND);
          continue;
        }
        ctx.logger.error('hash-failed', { client: conn.label, name, error: (error as Error).message });
        return conn.send(errorReply(ErrorKind.SERVER_ERROR, `could not read ${name}`));
      }
    }
    ctx.logger.info('hash', { client: conn.label, name, bytes: hashed.size, source: result.source, ms: Math.round(performance.now() - started) });
    await conn.send(formatHashLine(result.hex));
  },
};
