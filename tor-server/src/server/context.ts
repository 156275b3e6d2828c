import type { TrustedProxies } from './client-address.js';
import type { Authority } from './auth/authority.js';
import type { ChangeFeed } from './changes/feed.js';
import type { ServerConfig } from './config.js';
import type { HashCache } from './hash/hash-cache.js';
import type { Logger } from './logger.js';
import type { PartialStore } from './partials/partial-store.js';
import type { ServerMetrics } from './metrics.js';
import type { Store } from './store/store.js';

/** What every connection and command shares: the store, its change feed and hashes, the limits, the log. */
export interface ServerContext {
  readonly store: Store;
  /** Every change to the files goes through it (commands that change files call it, not the store), so watchers see it. */
  readonly feed: ChangeFeed;
  readonly hashes: HashCache;
  /** Resumable uploads in progress (begin, put, commit). */
  readonly partials: PartialStore;
  readonly config: ServerConfig;
  readonly logger: Logger;
  /** Where commands and transfers are counted for Prometheus. */
  readonly metrics: ServerMetrics;
  /** The tokens, the sign-in mode and the failed sign-in limit. */
  readonly auth: Authority;
  /** The gateways that may name their users' addresses (`client`). */
  readonly trustedProxies: TrustedProxies;
  /** Set once shutdown begins: no new commands start. */
  readonly shuttingDown: boolean;
}
