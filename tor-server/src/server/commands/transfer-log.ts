import type { ServerContext } from '../context.js';
import type { CommandConnection } from './command.js';

/** Logs a finished transfer with its duration and rate. */
export function logTransfer(ctx: ServerContext, conn: CommandConnection, direction: string, name: string, bytes: number, started: number): void {
  const ms = performance.now() - started;
  const rate = ms > 0 ? bytes / 1e6 / (ms / 1000) : 0;
  ctx.logger.info('transfer', { client: conn.label, direction, name, bytes, ms: Math.round(ms), rate: `${rate.toFixed(1)}MB/s` });
}
