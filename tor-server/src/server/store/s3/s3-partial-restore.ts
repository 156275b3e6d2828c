import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { overlaps, type ByteRange } from '../../../protocol/ranges.js';
import type { Partial } from '../../partials/partial.js';
import { listHiddenObjects, listHiddenUploads, listUploadedParts, type ListedObject, type ListedUpload } from './s3-partial-listing.js';
import { newS3Record, parseS3Record, partCount, partRange, covers, type S3PartialRecord } from './s3-partial-record.js';
import { PARTIALS_KEY_DIR, type S3PartialBytes, type S3PartialContext } from './s3-partials.js';
import { s3StoreError } from './s3-errors.js';

/** What the engine holds under the partials' hidden prefix; undefined when it could not be asked. */
interface Listed {
  uploads: ListedUpload[];
  objects: Map<string, ListedObject>;
}

/**
 * Of the partials an earlier run left, those whose bytes are still somewhere, their indexes
 * corrected to what the engine really has (ListParts is the truth): a part the engine lacks and
 * whose local file is gone drops its range. Multipart uploads and hidden objects no partial owns
 * are removed, one log line each.
 */
export async function restoreS3Partials(bytes: S3PartialBytes, ctx: S3PartialContext, partials: Partial[]): Promise<Partial[]> {
  const { bucket, logger } = ctx;
  let listed: Listed | undefined;
  try {
    const objects = await listHiddenObjects(bucket, PARTIALS_KEY_DIR);
    listed = { uploads: await listHiddenUploads(bucket, PARTIALS_KEY_DIR), objects: new Map(objects.map((object) => [object.id, object])) };
  } catch (error) {
    logger.warn('s3-partials-unchecked', { error: s3StoreError(error, 'list the partials').message, note: 'their indexes are trusted until commit' });
  }
  const kept: Partial[] = [];
  for (const partial of partials) {
    const ok = await restoreOne(bytes, ctx, partial, listed).catch((error: unknown) => {
      logger.warn('partial-unreadable', { id: partial.id, error: s3StoreError(error, 'restore the partial').message, note: 'its files are deleted' });
      return false;
    });
    if (ok) kept.push(partial);
  }
  if (!listed) return kept;
  const owned = new Map(kept.map((partial) => [partial.id, bytes.record(partial)]));
  for (const upload of listed.uploads) {
    if (owned.get(upload.id)?.uploadId !== upload.uploadId) await bytes.abortUpload(upload.id, upload.uploadId);
  }
  for (const object of listed.objects.values()) {
    if (!owned.get(object.id)?.completed) {
      await bytes.deleteHidden(object.id);
      logger.info('s3-partial-object-deleted', { id: object.id, note: 'no partial uses it' });
    }
  }
  return kept;
}

/** Brings one partial's record in line with the engine and the local folder: false when its bytes are gone. */
async function restoreOne(bytes: S3PartialBytes, ctx: S3PartialContext, partial: Partial, listed: Listed | undefined): Promise<boolean> {
  const record = parseS3Record(partial.backend) ?? (await fromOldIndex(bytes, ctx, partial));
  if (!record) {
    ctx.logger.warn('partial-unreadable', { id: partial.id, note: 'its files are deleted' });
    return false;
  }
  await partial.setBackend(record);
  const parts = partCount(partial.size, record.partBytes);
  bytes.running(partial);
  if (parts <= 1) {
    if (await exists(bytes.wholeFile(partial))) return true;
    ctx.logger.warn('partial-unreadable', { id: partial.id, note: 'its files are deleted' });
    return false;
  }
  if (!listed) return true;
  const object = listed.objects.get(partial.id);
  const upload = listed.uploads.find((u) => u.id === partial.id && u.uploadId === record.uploadId);
  // Completed before the stop (its index may not have said so yet): committable as it is.
  if (object && object.size === partial.size && (record.completed || !upload)) {
    record.completed = true;
    await partial.setBackend(record);
    return true;
  }
  // Copied under its name and its hidden object deleted, but stopped before its index went: it is a published file now.
  if (record.completed && !object && (await committedBeforeStop(ctx, partial, record))) {
    ctx.logger.info('partial-committed-before-stop', { id: partial.id, name: partial.name });
    return false;
  }
  if (record.uploadId !== null && !upload) ctx.logger.warn('s3-partial-upload-gone', { id: partial.id, name: partial.name, note: 'the parts it held are to be sent again' });
  const there = upload ? await listUploadedParts(ctx.bucket, ctx.bucket.key(bytes.hiddenName(partial.id)), upload.uploadId) : new Map<number, { etag: string; size: number }>();
  record.uploadId = upload ? upload.uploadId : null;
  record.completed = false;
  record.sha256 = null;
  record.etags = {};
  let lost = 0;
  for (let k = 0; k < parts; k++) {
    const range = partRange(partial.size, record.partBytes, k);
    const file = bytes.partPath(partial, k);
    const engine = there.get(k + 1);
    if (engine && engine.size === range[1] - range[0] && covers(partial.ranges, range)) {
      record.etags[k] = engine.etag;
      await fs.rm(file, { force: true });
    } else if (!(await exists(file)) && partial.ranges.some((r) => overlaps(r, range))) {
      lost += storedIn(partial.ranges, range);
      await partial.dropStored(range);
    }
  }
  if (lost > 0) ctx.logger.warn('s3-partial-bytes-lost', { id: partial.id, name: partial.name, bytes: lost, note: 'neither the engine nor the local folder has them: the client sends them again' });
  await partial.setBackend(record);
  return true;
}

/**
 * An index of an earlier version, whose bytes wait whole in `<id>.data`: those of an upload
 * larger than a part are moved into part files, the form such partials take now. Undefined when
 * that file is gone too.
 */
async function fromOldIndex(bytes: S3PartialBytes, ctx: S3PartialContext, partial: Partial): Promise<S3PartialRecord | undefined> {
  const data = bytes.wholeFile(partial);
  if (!(await exists(data))) return undefined;
  const record = newS3Record(ctx.partBytes);
  const parts = partCount(partial.size, record.partBytes);
  if (parts <= 1) return record;
  for (let k = 0; k < parts; k++) {
    const [start, end] = partRange(partial.size, record.partBytes, k);
    if (!partial.ranges.some((r) => overlaps(r, [start, end]))) continue;
    const file = bytes.partPath(partial, k);
    await pipeline(createReadStream(data, { start, end: end - 1 }), createWriteStream(file, { mode: 0o600 }));
    // Durable before the whole file goes: the index counts on these bytes.
    const handle = await fs.open(file, 'r+');
    await handle.datasync().finally(() => handle.close());
  }
  await fs.rm(data, { force: true });
  return record;
}

/** True when the partial's name holds a file of its size and sha256 (the one its commit stored). */
async function committedBeforeStop(ctx: S3PartialContext, partial: Partial, record: S3PartialRecord): Promise<boolean> {
  const head = await ctx.bucket.head(partial.name);
  return head !== undefined && !head.pending && head.size === partial.size && record.sha256 !== null && head.sha256 === record.sha256;
}

async function exists(file: string): Promise<boolean> {
  return (await fs.stat(file).catch(() => undefined)) !== undefined;
}

/** Bytes of `range` the ranges cover. */
function storedIn(ranges: readonly ByteRange[], range: ByteRange): number {
  return ranges.reduce((sum, [start, end]) => sum + Math.max(0, Math.min(end, range[1]) - Math.max(start, range[0])), 0);
}
