import type { ServerConfig } from './config.js';
import type { Logger } from './logger.js';
import type { Storage } from './storage.js';

/** What every connection and command shares: the folder, the limits, the log. */
export interface ServerContext {
  readonly storage: Storage;
  readonly config: ServerConfig;
  readonly logger: Logger;
  /** Set once shutdown begins: no new commands start. */
  readonly shuttingDown: boolean;
}
