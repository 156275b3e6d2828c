import type { ServerConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { FolderPartialBytes } from '../partials/folder-partial-bytes.js';
import type { PartialBytes } from '../partials/partial-bytes.js';
import { FsStore } from './fs-store.js';
import { S3Store, type StoreState } from './s3/s3-store.js';
import { normalPrefix, socketsFor } from './s3/s3-settings.js';

/** A store the server can serve: either keeps a local folder (`root`) for its work files and resumable uploads. */
export type ServedStore = FsStore | S3Store;

/** Opens the store `config.store` names: the `dir` folder, or the S3 bucket with `dir` as its local work folder. */
export function openStore(config: ServerConfig, logger: Logger): Promise<ServedStore> {
  if (config.store === 'fs') return FsStore.open(config.dir, logger);
  const settings = {
    endpoint: config.s3Endpoint,
    bucket: config.s3Bucket!,
    prefix: normalPrefix(config.s3Prefix),
    region: config.s3Region,
    pollIntervalMs: config.s3PollIntervalMs,
    leaseRenewMs: config.s3LeaseRenewMs,
    idleTimeoutMs: config.s3IdleTimeoutMs,
    maxSockets: socketsFor(config.maxClients),
  };
  return S3Store.open(settings, config.dir, { logger, maxFileSize: config.maxFileSize });
}

/** What the operator console shows about the store: `fs /path` or `s3 endpoint/bucket/prefix`, and its state. */
export function storeState(store: ServedStore): StoreState {
  return store instanceof S3Store ? store.state() : { description: `fs ${store.root}`, state: 'local folder' };
}

/** Where the store keeps resumable uploads' bytes until commit, `dir` being the local partials folder. */
export function partialBytesOf(store: ServedStore, dir: string, logger: Logger): PartialBytes {
  return store instanceof S3Store ? store.partialBytes(dir) : new FolderPartialBytes(dir, logger, (name, file) => store.adoptUpload(name, file));
}
