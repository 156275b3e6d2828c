import type { ServerConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { FolderPartialBytes } from '../partials/folder-partial-bytes.js';
import type { PartialBytes } from '../partials/partial-bytes.js';
import { FsStore } from './fs-store.js';
import type { S3Store, StoreState } from './s3/s3-store.js';

/** A store the server can serve: either keeps a local folder (`root`) for its work files and resumable uploads. */
export type ServedStore = FsStore | S3Store;

/** Opens the store `config.store` names: the `dir` folder, or the S3 bucket with `dir` as its local work folder. */
export async function openStore(config: ServerConfig, logger: Logger): Promise<ServedStore> {
  if (config.store === 'fs') return FsStore.open(config.dir, logger);
  // Loaded only here: the AWS SDK adds about 24 MB to the RSS of a server that never uses it.
  const [{ S3Store }, { normalPrefix, socketsFor }] = await Promise.all([import('./s3/s3-store.js'), import('./s3/s3-settings.js')]);
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
  return store instanceof FsStore ? { description: `fs ${store.root}`, state: 'local folder' } : store.state();
}

/** Where the store keeps resumable uploads' bytes until commit, `dir` being the local partials folder. */
export function partialBytesOf(store: ServedStore, dir: string, logger: Logger): PartialBytes {
  return store instanceof FsStore ? new FolderPartialBytes(dir, logger, (name, file) => store.adoptUpload(name, file)) : store.partialBytes(dir);
}
