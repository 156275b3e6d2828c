import fs from 'node:fs';
import type { Logger } from '../logger.js';

/**
 * How often the whole folder is looked at again, whatever fs.watch said: it misses changes on
 * some file systems (network mounts), and drops events when too many come at once.
 */
export const FOLDER_RESCAN_INTERVAL_MS = 5000;

/**
 * Hints at changes in `folder` made by anyone: `onHint(name)` from fs.watch, `onHint()` every
 * {@link FOLDER_RESCAN_INTERVAL_MS}. Returns a function that stops both.
 */
export function watchFolder(folder: string, onHint: (name?: string) => void, logger: Logger): () => void {
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(folder, { persistent: false }, (_event, name) => onHint(name ?? undefined));
    watcher.on('error', (error) => {
      // The periodic rescan still sees every change, only later.
      logger.warn('folder-watch-failed', { error: error.message, note: `changes made by hand show within ${FOLDER_RESCAN_INTERVAL_MS / 1000} s` });
      watcher?.close();
    });
  } catch (error) {
    logger.warn('folder-watch-failed', { error: (error as Error).message, note: `changes made by hand show within ${FOLDER_RESCAN_INTERVAL_MS / 1000} s` });
  }
  const timer = setInterval(() => onHint(), FOLDER_RESCAN_INTERVAL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    watcher?.close();
  };
}
