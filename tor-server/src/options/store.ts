/**
 * The tor-server's store settings: the folder (`--store fs`, the default) or an S3-compatible
 * object store (`--store s3`). Credentials are never options (a flag shows in `ps`): the S3
 * store takes them from the standard AWS chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,
 * or the credentials file and AWS_PROFILE).
 */
import { InvalidValue, oneOf, seconds, text } from './parsers.js';
import { ConfigError, option } from './table.js';

/** The stores a tor-server can keep its files in. */
export const STORE_KINDS = ['fs', 's3'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

/** The signing region when none is given (any works for most non-AWS engines). */
export const DEFAULT_S3_REGION = 'us-east-1';
/** How often the bucket is listed for changes made by others, by default. */
export const DEFAULT_S3_POLL_MS = 5000;
/**
 * How long a connection to the engine may stay silent before its request is cut, by default.
 * Longer than the tor-server's stall timeout: a download's body waits while its client is slow,
 * and that client is cut first.
 */
export const DEFAULT_S3_IDLE_MS = 120_000;
/** How often a server renews its lease on the bucket and prefix, by default. */
export const DEFAULT_S3_LEASE_RENEW_MS = 30_000;

// S3's bucket naming rules (3 to 63 characters: lower-case letters, digits, dots and hyphens).
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** An http(s) URL, as the engine's endpoint. */
function endpointUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidValue('is not a URL (give the engine\'s address, e.g. http://127.0.0.1:9000)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidValue('must be an http:// or https:// URL');
  return value.replace(/\/+$/, '');
}

function bucketName(value: string): string {
  if (!BUCKET_NAME.test(value)) throw new InvalidValue('is not a valid S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)');
  return value;
}

/** The option rows of the store (TOR_STORE, TOR_S3_ENDPOINT, TOR_S3_BUCKET, TOR_S3_PREFIX, TOR_S3_REGION, TOR_S3_POLL_INTERVAL, TOR_S3_TIMEOUT, TOR_S3_LEASE_RENEW). */
export function storeOptions() {
  return {
    store: option({ flag: 'store', env: 'TOR_STORE', help: 'where the files live: fs (the --dir folder) or s3 (a bucket; --dir then holds only work files)', parse: oneOf(STORE_KINDS), default: 'fs' }),
    s3Endpoint: option<string | undefined>({ flag: 's3-endpoint', env: 'TOR_S3_ENDPOINT', help: 'S3 engine URL (MinIO, Ceph, R2...); leave out for AWS S3. Credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials', parse: endpointUrl, default: undefined }),
    s3Bucket: option<string | undefined>({ flag: 's3-bucket', env: 'TOR_S3_BUCKET', help: 'bucket holding the files (with --store s3; it must exist)', parse: bucketName, default: undefined }),
    s3Prefix: option({ flag: 's3-prefix', env: 'TOR_S3_PREFIX', help: 'key prefix inside the bucket (a "folder"), so several servers can share one bucket', parse: text, default: '' }),
    s3Region: option({ flag: 's3-region', env: 'TOR_S3_REGION', help: 'signing region', parse: text, default: DEFAULT_S3_REGION }),
    s3PollIntervalMs: option({ flag: 's3-poll-interval', env: 'TOR_S3_POLL_INTERVAL', help: 'seconds between listings of the bucket that find changes made by others', parse: seconds({ above0: true }), default: DEFAULT_S3_POLL_MS }),
    s3LeaseRenewMs: option({ flag: 's3-lease-renew', env: 'TOR_S3_LEASE_RENEW', help: 'seconds between renewals of this server\'s lease on the bucket and prefix; a server on another host may take over one not renewed for three times this', parse: seconds({ above0: true }), default: DEFAULT_S3_LEASE_RENEW_MS }),
    s3IdleTimeoutMs: option({ flag: 's3-timeout', env: 'TOR_S3_TIMEOUT', help: 'seconds a request to the S3 engine may go without a byte moving before it fails (uploads, downloads, copies and lookups alike)', parse: seconds({ above0: true }), default: DEFAULT_S3_IDLE_MS }),
  };
}

/** Refuses `--store s3` without a bucket. */
export function checkStoreOptions(config: { store: StoreKind; s3Bucket: string | undefined }, errorCode: string): void {
  if (config.store === 's3' && config.s3Bucket === undefined) throw new ConfigError('--store s3 needs --s3-bucket (TOR_S3_BUCKET): the bucket must exist', errorCode);
}
