import { CompleteMultipartUploadCommand, CopyObjectCommand, UploadPartCopyCommand, type CompletedPart } from '@aws-sdk/client-s3';
import { SHA256_META, type S3Bucket } from './s3-bucket.js';
import { s3StoreError } from './s3-errors.js';

/** The largest object one CopyObject may copy; larger ones are copied part by part. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
/** Bytes per UploadPartCopy when copying a larger object. */
const COPY_PART_BYTES = 1024 ** 3;

/**
 * Copies object `from` to `to` inside the bucket with its metadata (its sha256 among them), or
 * with `metadata` instead when given. It overwrites whatever `to` holds (CopyObject ignores
 * If-None-Match on radosgw): the caller claims `to` first.
 */
export async function copyObject(bucket: S3Bucket, from: string, to: string, size: number, etag: string, metadata?: Record<string, string>): Promise<void> {
  const source = `${bucket.bucket}/${encodeURIComponent(bucket.key(from)).replace(/%2F/g, '/')}`;
  const ifMatch = etag === '' ? {} : { CopySourceIfMatch: `"${etag}"` };
  if (size <= MAX_COPY_BYTES) {
    const replace = metadata ? { MetadataDirective: 'REPLACE' as const, Metadata: metadata } : {};
    await bucket.client.send(new CopyObjectCommand({ Bucket: bucket.bucket, Key: bucket.key(to), CopySource: source, ...ifMatch, ...replace })).catch((error: unknown) => {
      throw s3StoreError(error, `copy ${from} to ${to}`);
    });
    return;
  }
  const sha256 = metadata ? undefined : (await bucket.head(from))?.sha256;
  const kept = metadata ?? (sha256 !== undefined ? { [SHA256_META]: sha256 } : undefined);
  const uploadId = await bucket.startMultipart(to, kept);
  const parts: CompletedPart[] = [];
  try {
    for (let start = 0, number = 1; start < size; start += COPY_PART_BYTES, number++) {
      const end = Math.min(size, start + COPY_PART_BYTES) - 1;
      const part = await bucket.client.send(
        new UploadPartCopyCommand({ Bucket: bucket.bucket, Key: bucket.key(to), UploadId: uploadId, PartNumber: number, CopySource: source, CopySourceRange: `bytes=${start}-${end}`, ...ifMatch }),
      );
      parts.push({ PartNumber: number, ETag: part.CopyPartResult?.ETag });
    }
    await bucket.client.send(new CompleteMultipartUploadCommand({ Bucket: bucket.bucket, Key: bucket.key(to), UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  } catch (error) {
    await bucket.abortMultipart(bucket.key(to), uploadId).catch(() => {});
    throw s3StoreError(error, `copy ${from} to ${to}`);
  }
}
