import { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../../logger.js';

/** Where an S3 store keeps its files: the engine, the bucket, and the key prefix inside it. */
export interface S3Settings {
  /** The engine's URL (http://127.0.0.1:7480); undefined for AWS S3 itself. */
  endpoint: string | undefined;
  bucket: string;
  /** Keys start with this ('' or ending in '/'): several teams can share one bucket. */
  prefix: string;
  region: string;
  /** How often the bucket is listed to see changes made by others. */
  pollIntervalMs: number;
  /** How often this server renews its lease on the bucket and prefix (another may take one not renewed for three of these). */
  leaseRenewMs: number;
  /**
   * A request whose connection moves no byte for this long fails (an idle deadline, not a total
   * one: a long healthy download or upload keeps going), so a hung engine never holds a commit,
   * rename or delete for good.
   */
  idleTimeoutMs: number;
  /** Connections to the engine at once: see {@link socketsFor}. */
  maxSockets: number;
}

/** Parts of one upload going up at once (each holds a connection to the engine). */
export const PARTS_IN_FLIGHT = 2;
// Connections kept for lookups, listings, claims and deletes beyond what transfers can hold.
const METADATA_SOCKETS = 64;

/**
 * Connections to the engine a server with `maxClients` connections needs so that transfers never
 * starve lookups: each client runs one command at a time, which holds at most one download's or
 * PARTS_IN_FLIGHT parts' connections for as long as it runs (the SDK's default pool is 50).
 */
export function socketsFor(maxClients: number): number {
  return maxClients * PARTS_IN_FLIGHT + METADATA_SOCKETS;
}

/**
 * The S3 client every request goes through. Path-style addressing and checksums only where an
 * operation requires them: non-AWS engines (Ceph radosgw, MinIO) refuse the aws-chunked bodies
 * with trailing checksums that the SDK sends by default. Credentials come from the standard
 * AWS chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the credentials file), never a flag.
 */
export function s3Client(settings: Pick<S3Settings, 'endpoint' | 'region' | 'idleTimeoutMs' | 'maxSockets'>, logger: Logger): S3Client {
  // The SDK would print a notice about its future Node versions on every start, into the
  // server's structured log on stderr; the project's engines field already says what it runs on.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    ...(settings.endpoint !== undefined && { endpoint: settings.endpoint }),
    region: settings.region,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // socketTimeout, not requestTimeout: the SDK only warns when a request outlives requestTimeout
    // (unless throwOnRequestTimeout), and a total deadline would cut long healthy transfers.
    requestHandler: {
      connectionTimeout: Math.min(CONNECT_TIMEOUT_MS, settings.idleTimeoutMs),
      socketTimeout: settings.idleTimeoutMs,
      httpAgent: { keepAlive: true, maxSockets: settings.maxSockets },
      httpsAgent: { keepAlive: true, maxSockets: settings.maxSockets },
    },
    // The SDK's own remarks (it warns on console about every failed streamed request): debug
    // lines in the server's log; the store reports the failures themselves.
    logger: {
      trace: () => {},
      debug: () => {},
      info: () => {},
      warn: (...args: unknown[]) => logger.debug('s3-sdk', { message: args.map(String).join(' ') }),
      error: (...args: unknown[]) => logger.debug('s3-sdk', { message: args.map(String).join(' ') }),
    },
  });
}

/** An engine that does not accept a connection within this long is reported unreachable. */
const CONNECT_TIMEOUT_MS = 5000;

/** The prefix as keys use it: empty, or ending in exactly one '/'. */
export function normalPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/** How the store is shown to the operator: `s3 endpoint/bucket/prefix`. */
export function describeS3(settings: Pick<S3Settings, 'endpoint' | 'bucket' | 'prefix' | 'region'>): string {
  const endpoint = (settings.endpoint ?? `https://s3.${settings.region}.amazonaws.com`).replace(/\/+$/, '');
  return `s3 ${endpoint}/${settings.bucket}/${settings.prefix}`;
}
