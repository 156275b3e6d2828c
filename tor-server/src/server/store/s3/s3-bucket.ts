import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { isNotFound, isPreconditionFailed, s3StoreError } from './s3-errors.js';
import { StoreError } from '../store.js';

/** Metadata key (x-amz-meta-tor-state) of a name claimed by an upload or rename not complete yet. */
export const STATE_META = 'tor-state';
export const PENDING = 'pending';
/** Metadata key holding the sha256 of the bytes (64 lower-case hex digits), set when it was known at writing. */
export const SHA256_META = 'tor-sha256';
/**
 * Tag keys holding the sha256 of an object's bytes when it was known only after they were
 * written (a multipart upload: its metadata is fixed when it starts), beside the ETag it was
 * computed for. Unlike metadata, tags can be set without copying the object; a tag whose ETag
 * is not the object's is no longer about its bytes.
 */
export const SHA256_TAG = 'tor-sha256';
export const SHA256_ETAG_TAG = 'tor-sha256-etag';
/** Metadata key of the server (its lease's owner id) that wrote a pending marker or the lease. */
export const OWNER_META = 'tor-owner';
/** Metadata key of when that server wrote it (ISO time): a marker's claim, the lease's last renewal. */
export const AT_META = 'tor-at';
/** A request about metadata (not a transfer of bytes) that takes longer than this fails as "did not answer in time". */
export const METADATA_TIMEOUT_MS = 30_000;
// A HEAD's bare 404 cannot tell a missing file from a missing bucket: the bucket is checked again at most this often.
const BUCKET_CHECK_MS = 10_000;
// Keys one listing page asks for (S3's own maximum).
const PAGE_KEYS = 1000;

/** What HeadObject tells about one object. */
export interface ObjectHead {
  size: number;
  etag: string;
  /** LastModified, whole seconds (a listing and a HEAD give it with different precision). */
  modified: string;
  pending: boolean;
  sha256: string | undefined;
  /** Who wrote it (pending markers, the lease), when it says. */
  owner: string | undefined;
  /** How long ago its writer says it wrote it (else its LastModified), in ms. */
  ageMs: number;
  /** All of its user metadata. */
  metadata: Record<string, string>;
}

/** The bucket under one prefix: names in, keys out, one deadline per metadata request. */
export class S3Bucket {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  /** The engine's last failure, any request (lookups and transfers alike), for the operator console; undefined once one succeeds. */
  lastProblem: string | undefined;
  #bucketSeenAt = 0;

  constructor(client: S3Client, bucket: string, prefix: string) {
    this.client = client;
    this.bucket = bucket;
    this.prefix = prefix;
  }

  key(name: string): string {
    return this.prefix + name;
  }

  /** The name of a key directly under the prefix; undefined for keys in deeper "folders". */
  nameOf(key: string): string | undefined {
    if (!key.startsWith(this.prefix)) return undefined;
    const name = key.slice(this.prefix.length);
    return name === '' || name.includes('/') ? undefined : name;
  }

  /** Every object directly under the prefix, a page (up to 1000) at a time. */
  async *pages(): AsyncGenerator<_Object[]> {
    let token: string | undefined;
    do {
      const page = await this.client
        .send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, Delimiter: '/', MaxKeys: PAGE_KEYS, ContinuationToken: token }), deadline())
        .catch((error: unknown) => {
          throw s3StoreError(error, 'list the bucket');
        });
      yield page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /** The object's head, or undefined when there is none. */
  async head(name: string): Promise<ObjectHead | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(name) }), deadline());
      return {
        size: head.ContentLength ?? 0,
        etag: etagOf(head.ETag),
        modified: wholeSeconds(head.LastModified),
        pending: head.Metadata?.[STATE_META] === PENDING,
        sha256: head.Metadata?.[SHA256_META],
        owner: head.Metadata?.[OWNER_META],
        ageMs: Date.now() - (Date.parse(head.Metadata?.[AT_META] ?? '') || head.LastModified?.getTime() || 0),
        metadata: head.Metadata ?? {},
      };
    } catch (error) {
      if (isNotFound(error)) {
        await this.#checkBucket();
        return undefined;
      }
      throw s3StoreError(error, `look up ${name}`);
    }
  }

  /** Every multipart upload in progress whose key starts with `keyPrefix` (a whole key prefix); throws the SDK's error. */
  async multipartUploads(keyPrefix: string): Promise<{ key: string; uploadId: string; initiated: number }[]> {
    const found: { key: string; uploadId: string; initiated: number }[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: keyPrefix, KeyMarker: keyMarker, UploadIdMarker: idMarker }), deadline());
      for (const upload of page.Uploads ?? []) {
        if (upload.Key !== undefined && upload.UploadId !== undefined) found.push({ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated?.getTime() ?? 0 });
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      idMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
    return found;
  }

  /** Starts a multipart upload to `name` (with its metadata, fixed from now on); resolves with its upload id. */
  async startMultipart(name: string, metadata?: Record<string, string>): Promise<string> {
    const created = await this.client
      .send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key(name), ...(metadata && { Metadata: metadata }) }), deadline())
      .catch((error: unknown) => {
        throw s3StoreError(error, `start the upload of ${name}`);
      });
    if (created.UploadId === undefined) throw new StoreError('unavailable', `start the upload of ${name}: the S3 engine gave no upload id`);
    return created.UploadId;
  }

  /**
   * Sends part `number` (from 1) of a multipart upload: `bytes` bytes of `body`, with no total
   * deadline (a long healthy part goes on); `signal` stops it. Resolves with the part's ETag.
   * Throws the engine's error as it is, for the caller to word.
   */
  async uploadPart(name: string, uploadId: string, number: number, body: Readable, bytes: number, signal?: AbortSignal): Promise<string | undefined> {
    const sent = await this.client.send(
      new UploadPartCommand({ Bucket: this.bucket, Key: this.key(name), UploadId: uploadId, PartNumber: number, ContentLength: bytes, Body: body }),
      signal && { abortSignal: signal },
    );
    return sent.ETag;
  }

  /** Aborts a multipart upload of the key `key` (the whole key, prefix included). Throws the engine's error as it is. */
  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), deadline());
  }

  /** Tags the object with the sha256 of the version `etag` of its bytes (see {@link SHA256_TAG}). */
  async tagSha256(name: string, etag: string, sha256: string): Promise<void> {
    await this.client
      .send(
        new PutObjectTaggingCommand({
          Bucket: this.bucket,
          Key: this.key(name),
          Tagging: { TagSet: [{ Key: SHA256_TAG, Value: sha256 }, { Key: SHA256_ETAG_TAG, Value: etag }] },
        }),
        deadline(),
      )
      .catch((error: unknown) => {
        throw s3StoreError(error, `tag ${name} with its sha256`);
      });
  }

  /** The sha256 the object's tags give for the version `etag` of its bytes; undefined when they give none for it. */
  async taggedSha256(name: string, etag: string): Promise<string | undefined> {
    const tags = await this.client.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key: this.key(name) }), deadline()).catch((error: unknown) => {
      throw s3StoreError(error, `read the tags of ${name}`);
    });
    const tag = (key: string) => tags.TagSet?.find((t) => t.Key === key)?.Value;
    const sha256 = tag(SHA256_TAG);
    return etag !== '' && tag(SHA256_ETAG_TAG) === etag && sha256 !== undefined && /^[0-9a-f]{64}$/.test(sha256) ? sha256 : undefined;
  }

  /** Notes how a request to the engine ended, for the console: `error` when it failed. */
  note(error?: unknown): void {
    if (error === undefined) this.lastProblem = undefined;
    else if (!(error instanceof StoreError) || error.kind === 'unavailable') this.lastProblem = error instanceof StoreError ? (error.reason ?? error.message) : s3StoreError(error, 'reach the engine').reason;
  }

  /** Fails with "the S3 bucket does not exist" when it is gone (checked at most every BUCKET_CHECK_MS). */
  async #checkBucket(): Promise<void> {
    if (Date.now() - this.#bucketSeenAt < BUCKET_CHECK_MS) return;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), deadline());
      this.#bucketSeenAt = Date.now();
    } catch (error) {
      const problem = isNotFound(error) ? 'the S3 bucket does not exist' : undefined;
      throw problem ? new StoreError('unavailable', `the S3 bucket ${this.bucket} does not exist: create it, or fix --s3-bucket`, { reason: problem, cause: error }) : s3StoreError(error, 'check the bucket');
    }
  }

  /**
   * Claims `name` with a zero-byte object marked pending, only where no object is (If-None-Match: *,
   * which radosgw and S3 honour on PutObject, unlike on CompleteMultipartUpload and CopyObject):
   * false when the name is taken. The marker names its `owner` and when it was made, so only
   * an abandoned one is ever taken over.
   */
  async claim(name: string, owner: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.key(name), Body: Buffer.alloc(0), ContentLength: 0, IfNoneMatch: '*', Metadata: { [STATE_META]: PENDING, [OWNER_META]: owner, [AT_META]: new Date().toISOString() } }),
        deadline(),
      );
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw s3StoreError(error, `claim ${name}`);
    }
  }

  /** Deletes the object (nothing happens when there is none). */
  async delete(name: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) }), deadline()).catch((error: unknown) => {
      throw s3StoreError(error, `delete ${name}`);
    });
  }
}

/** Options for a metadata request: aborted after {@link METADATA_TIMEOUT_MS}. */
export function deadline(): { abortSignal: AbortSignal } {
  return { abortSignal: AbortSignal.timeout(METADATA_TIMEOUT_MS) };
}

/** An ETag without its quotes. */
export function etagOf(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '');
}

/** A time as a listing row shows it, cut to whole seconds so a listing and a HEAD agree. */
export function wholeSeconds(date: Date | undefined): string {
  const ms = date?.getTime() ?? 0;
  return new Date(ms - (((ms % 1000) + 1000) % 1000)).toISOString();
}
