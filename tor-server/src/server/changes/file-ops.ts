import type { ServerContext } from '../context.js';
import type { FileName } from '../store/store.js';

/** What changing files needs: the feed (so watchers see the change) and the hash cache (which follows a rename). */
export type FileOpsContext = Pick<ServerContext, 'feed' | 'hashes'>;

/** Deletes a file for a client or the operator: true when deleted, false when no file had the name. */
export function deleteFile(ctx: FileOpsContext, name: FileName): Promise<boolean> {
  return ctx.feed.remove(name);
}

/**
 * Renames a file for a client or the operator, never over another (StoreError `exists`): true
 * when renamed, false when no file had `from`. Its remembered sha256 moves with it.
 */
export async function renameFile(ctx: FileOpsContext, from: FileName, to: FileName): Promise<boolean> {
  const entry = await ctx.feed.rename(from, to);
  if (entry) ctx.hashes.rename(from, to);
  return entry !== undefined;
}
