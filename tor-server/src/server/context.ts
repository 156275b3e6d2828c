import type { ServerConfig } from './config.js';
import type { Logger } from './logger.js';
import type { Store } from './store/store.js';

/** What every connection and command shares: the store, the limits, the log. */
export interface ServerContext {
  readonly store: Store;
  readonly config: ServerConfig;
  readonly logger: Logger;
  /** Set once shutdown begins: no new commands start. */
  readonly shuttingDown: boolean;
}
