import type { Logger } from './logger.js';

/** What {@link watchTransferRate} needs to know about one transfer. */
export interface RateWatch {
  client: string;
  direction: 'upload' | 'download';
  name: string;
  /** Bytes the transfer has to move in all. */
  total: number;
  /** Bytes moved so far. */
  done(): number;
  /** The length of one window, and the bytes that must move in each. */
  windowMs: number;
  minBytes: number;
  logger: Logger;
  /** Cuts the transfer. */
  cut(): void;
}

/**
 * Cuts a transfer that moves fewer than `minBytes` in a window (or, near the end, less than what
 * is left), so a peer sending one byte now and then cannot hold a slot and a name forever.
 * One timer per transfer, checked once per window. Returns the function that stops watching.
 */
export function watchTransferRate(watch: RateWatch): () => void {
  if (watch.minBytes <= 0) return () => {};
  let before = watch.done();
  const timer = setInterval(() => {
    const now = watch.done();
    const moved = now - before;
    const needed = Math.min(watch.minBytes, watch.total - before);
    before = now;
    if (moved >= needed) return;
    clearInterval(timer);
    watch.logger.warn('transfer-too-slow', {
      client: watch.client,
      direction: watch.direction,
      name: watch.name,
      bytes: moved,
      window: `${watch.windowMs / 1000}s`,
      min: watch.minBytes,
    });
    watch.cut();
  }, watch.windowMs);
  return () => clearInterval(timer);
}
