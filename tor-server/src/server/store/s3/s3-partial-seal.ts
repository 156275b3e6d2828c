import { CompleteMultipartUploadCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { overlaps } from '../../../protocol/ranges.js';
import type { Partial } from '../../partials/partial.js';
import { StoreError } from '../store.js';
import type { S3Bucket } from './s3-bucket.js';
import { s3StoreError, statusOf } from './s3-errors.js';
import { partCount, partRange, type S3PartialRecord } from './s3-partial-record.js';
import type { S3PartialBytes, S3PartialContext } from './s3-partials.js';

/**
 * Completes a partial's multipart upload (every part in the engine) into its hidden object and
 * notes it in the index. On a failure it looks before failing: the engine may have completed it
 * and only the answer was lost; when the engine no longer has the upload at all, the ranges of
 * parts not on local disk are missing again (the client sends them anew).
 */
export async function completeHidden(bytes: S3PartialBytes, ctx: S3PartialContext, partial: Partial, record: S3PartialRecord, parts: number): Promise<void> {
  const { bucket } = ctx;
  const hidden = bytes.hiddenName(partial.id);
  const list = Array.from({ length: parts }, (_, k) => ({ PartNumber: k + 1, ETag: record.etags[k] }));
  try {
    ctx.checkLease();
    await bucket.client.send(new CompleteMultipartUploadCommand({ Bucket: bucket.bucket, Key: bucket.key(hidden), UploadId: record.uploadId ?? undefined, MultipartUpload: { Parts: list } }));
  } catch (error) {
    if (error instanceof StoreError) throw error;
    const now = await bucket.head(hidden).then(
      (head) => head ?? 'gone',
      () => 'unknown' as const,
    );
    if (now === 'unknown' || now === 'gone' || now.size !== partial.size) {
      if (now === 'gone' && statusOf(error) === 404) await forgetUpload(bytes, ctx, partial, record);
      throw s3StoreError(error, `complete the upload of ${partial.name}`);
    }
  }
  record.completed = true;
  await partial.setBackend(record);
}

/** The engine lost the multipart upload: the ranges of parts not on local disk are missing again. */
async function forgetUpload(bytes: S3PartialBytes, ctx: S3PartialContext, partial: Partial, record: S3PartialRecord): Promise<void> {
  ctx.logger.warn('s3-partial-upload-gone', { id: partial.id, name: partial.name, note: 'the parts it held are to be sent again' });
  const parts = partCount(partial.size, record.partBytes);
  for (let k = 0; k < parts; k++) {
    const range = partRange(partial.size, record.partBytes, k);
    const local = await fs.stat(bytes.partPath(partial, k)).catch(() => undefined);
    if (!local && partial.ranges.some((r) => overlaps(r, range))) await partial.dropStored(range);
  }
  record.uploadId = null;
  record.etags = {};
  bytes.running(partial).hash = undefined;
  await partial.setBackend(record);
}

/** The sha256 of a completed hidden object, read back in one streamed GET (after a restart the running hash is gone). */
export async function readBack(bucket: S3Bucket, hidden: string, name: string): Promise<string> {
  const digest = createHash('sha256');
  try {
    const got = await bucket.client.send(new GetObjectCommand({ Bucket: bucket.bucket, Key: bucket.key(hidden) }));
    for await (const chunk of got.Body as Readable) digest.update(chunk as Buffer);
  } catch (error) {
    throw s3StoreError(error, `read back ${name}`);
  }
  return digest.digest('hex');
}
