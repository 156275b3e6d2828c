import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Logger } from '../../logger.js';
import { StoreError } from '../store.js';
import { AT_META, OWNER_META, deadline, etagOf, type S3Bucket } from './s3-bucket.js';
import { isPreconditionFailed, s3StoreError } from './s3-errors.js';

/** The lease object's name under the prefix (hidden: never listed or served). */
export const LEASE_NAME = '.tor-lease';
/** How often the holder renews its lease. */
export const LEASE_RENEW_MS = 30_000;
/** A lease renewed less than this long ago is held: another server on the same prefix refuses to start. */
export const LEASE_FRESH_MS = 3 * LEASE_RENEW_MS;

/**
 * One tor-server's hold on a bucket+prefix: a small object written with a conditional PutObject
 * (If-None-Match: * to take a free one, If-Match on the ETag it saw to renew or take over a stale
 * one), renewed every {@link LEASE_RENEW_MS}. Two servers on one prefix would take over each
 * other's pending markers and uploads; the folder lock only covers the local work folder.
 */
export class S3Lease {
  /** This server's id, also written into every pending marker it makes. */
  readonly owner = randomUUID();
  readonly #bucket: S3Bucket;
  readonly #logger: Logger;
  #etag = '';
  #timer: NodeJS.Timeout | undefined;
  #lost: string | undefined;

  private constructor(bucket: S3Bucket, logger: Logger) {
    this.#bucket = bucket;
    this.#logger = logger;
  }

  /** Takes the lease of `bucket`'s prefix, or fails with a clear message naming `where` when another server holds it. */
  static async acquire(bucket: S3Bucket, where: string, logger: Logger): Promise<S3Lease> {
    const lease = new S3Lease(bucket, logger);
    if (await lease.#write({ IfNoneMatch: '*' })) return lease.#keep();
    const held = await bucket.head(LEASE_NAME);
    if (held && held.owner !== undefined && held.ageMs < LEASE_FRESH_MS) throw heldError(where, held.ageMs);
    // Free again, or stale (its server stopped without releasing it): take it over, unless another taker was quicker.
    const taken = held ? await lease.#write({ IfMatch: held.etag }) : await lease.#write({ IfNoneMatch: '*' });
    if (!taken) throw heldError(where, 0);
    if (held) logger.warn('s3-lease-taken-over', { owner: held.owner ?? 'unknown', age_s: Math.round(held.ageMs / 1000), note: 'its server stopped without releasing it' });
    return lease.#keep();
  }

  /** Why this server may no longer write (another server took the lease over), or undefined while it holds it. */
  get lost(): string | undefined {
    return this.#lost;
  }

  /** Stops renewing and deletes the lease, so the next server starts at once. */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#lost !== undefined) return;
    const held = await this.#bucket.head(LEASE_NAME).catch(() => undefined);
    if (held?.owner === this.owner) await this.#bucket.delete(LEASE_NAME).catch(() => {});
  }

  #keep(): this {
    this.#timer = setInterval(() => void this.#renew(), LEASE_RENEW_MS);
    this.#timer.unref();
    return this;
  }

  async #renew(): Promise<void> {
    if (this.#lost !== undefined) return;
    try {
      if (!(await this.#write({ IfMatch: this.#etag }))) {
        this.#lost = 'another tor-server took over this bucket and prefix';
        clearInterval(this.#timer);
        this.#logger.error('s3-lease-lost', { note: 'another tor-server took this bucket and prefix over (this one was out of touch too long): uploads and changes are refused; restart this server once the other has stopped' });
      }
    } catch (error) {
      // Tried again at the next renewal; a lease not renewed for LEASE_FRESH_MS may be taken over.
      this.#logger.warn('s3-lease-renew-failed', { error: (error as Error).message });
    }
  }

  /** Writes the lease under `condition` (If-Match without quotes: radosgw refuses a quoted one): false when the condition failed (412). */
  async #write(condition: { IfNoneMatch: string } | { IfMatch: string }): Promise<boolean> {
    const body = Buffer.from(`${JSON.stringify({ owner: this.owner, host: os.hostname(), pid: process.pid })}\n`);
    try {
      const put = await this.#bucket.client.send(
        new PutObjectCommand({
          Bucket: this.#bucket.bucket,
          Key: this.#bucket.key(LEASE_NAME),
          Body: body,
          ContentLength: body.length,
          Metadata: { [OWNER_META]: this.owner, [AT_META]: new Date().toISOString() },
          ...condition,
        }),
        deadline(),
      );
      this.#etag = etagOf(put.ETag);
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw s3StoreError(error, 'take the lease');
    }
  }
}

function heldError(where: string, ageMs: number): StoreError {
  const reason = `another tor-server is serving this bucket and prefix (its lease ${LEASE_NAME} was renewed ${Math.round(ageMs / 1000)} s ago)`;
  return new StoreError(
    'unavailable',
    `${where}: ${reason}: stop that server first, or give this one its own --s3-prefix; the lease of a server that stopped without releasing it expires ${LEASE_FRESH_MS / 1000} s after its last renewal`,
    { reason },
  );
}
