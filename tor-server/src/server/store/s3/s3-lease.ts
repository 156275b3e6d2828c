import { PutObjectCommand } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { DEFAULT_S3_LEASE_RENEW_MS } from '../../../options/store.js';
import type { Logger } from '../../logger.js';
import type { FolderLock } from '../folder-lock.js';
import { StoreError } from '../store.js';
import { AT_META, OWNER_META, deadline, etagOf, type S3Bucket } from './s3-bucket.js';
import { isPreconditionFailed, s3StoreError } from './s3-errors.js';

/** The lease object's name under the prefix (hidden: never listed or served). */
export const LEASE_NAME = '.tor-lease';
/** A lease renewed less than this many of its renewal intervals ago is held: another server on the same prefix refuses to start. */
export const LEASE_FRESH_RENEWALS = 3;
/** Metadata keys of the lease: the token of its server's work-folder lock (see FolderLock.replaced), and its renewal interval in ms. */
const LOCK_META = 'tor-lock';
const RENEW_META = 'tor-renew-ms';
// A lease's stated renewal interval is believed within these bounds: a garbage value cannot hold a prefix for ever.
const MIN_RENEW_MS = 1000;
const MAX_RENEW_MS = 3600_000;

/**
 * One tor-server's hold on a bucket+prefix: a small object written with a conditional PutObject
 * (If-None-Match: * to take a free one, If-Match on the ETag it saw to renew or take over a stale
 * one), renewed every --s3-lease-renew (30 s by default). Two servers on one prefix would take over each
 * other's pending markers and uploads; the folder lock only covers the local work folder.
 * The lease names the holder's work-folder lock, so a server that finds its work folder's
 * previous server dead (a crash, a container restart) takes that server's lease at once
 * instead of waiting for it to go stale.
 */
export class S3Lease {
  /** This server's id, also written into every pending marker it makes. */
  readonly owner = randomUUID();
  readonly #bucket: S3Bucket;
  readonly #logger: Logger;
  readonly #lockToken: string;
  readonly #renewMs: number;
  #etag = '';
  #timer: NodeJS.Timeout | undefined;
  #renewing = false;
  #lost: string | undefined;

  private constructor(bucket: S3Bucket, logger: Logger, lockToken: string, renewMs: number) {
    this.#bucket = bucket;
    this.#logger = logger;
    this.#lockToken = lockToken;
    this.#renewMs = renewMs;
  }

  /**
   * Takes the lease of `bucket`'s prefix for the server holding `lock` (its work folder), or
   * fails with a clear message naming `where` when another server holds it.
   */
  static async acquire(bucket: S3Bucket, where: string, logger: Logger, lock: Pick<FolderLock, 'token' | 'replaced'>, renewMs: number): Promise<S3Lease> {
    const lease = new S3Lease(bucket, logger, lock.token, renewMs);
    if (await lease.#write({ IfNoneMatch: '*' })) return lease.#keep();
    const held = await bucket.head(LEASE_NAME);
    // Fresh by its holder's own renewal interval, which may differ from this server's.
    const freshMs = renewalOf(held?.metadata[RENEW_META]) * LEASE_FRESH_RENEWALS;
    // The holder of the work-folder lock this server found dead and cleared has stopped too.
    const ownDead = held?.metadata[LOCK_META] !== undefined && held.metadata[LOCK_META] === lock.replaced;
    if (held && held.owner !== undefined && held.ageMs < freshMs && !ownDead) throw heldError(where, held.ageMs, freshMs);
    // Free again, or stale (its server stopped without releasing it): take it over, unless another taker was quicker.
    const taken = held ? await lease.#write({ IfMatch: held.etag }) : await lease.#write({ IfNoneMatch: '*' });
    if (!taken) throw heldError(where, 0, freshMs);
    if (held) {
      const note = ownDead ? 'the server this work folder had before stopped without releasing it' : 'its server stopped without releasing it';
      logger.warn('s3-lease-taken-over', { owner: held.owner ?? 'unknown', age_s: Math.round(held.ageMs / 1000), note });
    }
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
    this.#timer = setInterval(() => void this.#renew(), this.#renewMs);
    this.#timer.unref();
    return this;
  }

  async #renew(): Promise<void> {
    // One renewal at a time: two with the same If-Match would fail each other.
    if (this.#lost !== undefined || this.#renewing) return;
    this.#renewing = true;
    try {
      if (!(await this.#write({ IfMatch: this.#etag })) && !(await this.#stillOurs())) {
        this.#lost = 'another tor-server took over this bucket and prefix';
        clearInterval(this.#timer);
        this.#logger.error('s3-lease-lost', { note: 'another tor-server took this bucket and prefix over (this one was out of touch too long): uploads and changes are refused; restart this server once the other has stopped' });
      }
    } catch (error) {
      // Tried again at the next renewal; a lease not renewed for LEASE_FRESH_RENEWALS of them may be taken over.
      this.#logger.warn('s3-lease-renew-failed', { error: (error as Error).message });
    } finally {
      this.#renewing = false;
    }
  }

  /**
   * After a refused renewal: true when the lease is still this server's (an earlier renewal was
   * stored but its answer lost, so the ETag held here was old), taking its current ETag.
   */
  async #stillOurs(): Promise<boolean> {
    const held = await this.#bucket.head(LEASE_NAME);
    if (held?.owner !== this.owner) return false;
    this.#etag = held.etag;
    return true;
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
          Metadata: { [OWNER_META]: this.owner, [AT_META]: new Date().toISOString(), [LOCK_META]: this.#lockToken, [RENEW_META]: String(this.#renewMs) },
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

/** The renewal interval a lease states, within bounds; the default when it states none (an older server's). */
function renewalOf(stated: string | undefined): number {
  const ms = Number(stated);
  return Number.isFinite(ms) && stated !== undefined ? Math.min(Math.max(ms, MIN_RENEW_MS), MAX_RENEW_MS) : DEFAULT_S3_LEASE_RENEW_MS;
}

function heldError(where: string, ageMs: number, freshMs: number): StoreError {
  const reason = `another tor-server is serving this bucket and prefix (its lease ${LEASE_NAME} was renewed ${Math.round(ageMs / 1000)} s ago)`;
  return new StoreError(
    'unavailable',
    `${where}: ${reason}: stop that server first, or give this one its own --s3-prefix; the lease of a server that stopped without releasing it expires ${Math.round(freshMs / 1000)} s after its last renewal`,
    { reason },
  );
}
