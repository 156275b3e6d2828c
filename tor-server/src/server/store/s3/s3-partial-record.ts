import type { ByteRange } from '../../../protocol/ranges.js';

/**
 * What a partial's index keeps about its bytes on the S3 store (its `backend` field): the part
 * size fixed at `begin`, the multipart upload at its hidden key and the parts the engine has.
 */
export interface S3PartialRecord {
  partBytes: number;
  /** The multipart upload at the hidden key, once its first part went up. */
  uploadId: string | null;
  /** The ETag the engine gave each part it has, by part index (part k is PartNumber k + 1). */
  etags: Record<number, string>;
  /** True once the multipart upload is completed into the hidden object (a commit under way). */
  completed: boolean;
  /** The sha256 of the completed hidden object, once known. */
  sha256: string | null;
}

/** A new partial's record: nothing sent yet. */
export function newS3Record(partBytes: number): S3PartialRecord {
  return { partBytes, uploadId: null, etags: {}, completed: false, sha256: null };
}

/** The record in an index's `backend` field; undefined when it holds none (an index of an earlier version) or a malformed one. */
export function parseS3Record(value: unknown): S3PartialRecord | undefined {
  const r = value as { [K in keyof S3PartialRecord]?: unknown } | null | undefined;
  if (typeof r !== 'object' || r === null || !Number.isSafeInteger(r.partBytes) || (r.partBytes as number) <= 0) return undefined;
  if ((r.uploadId !== null && typeof r.uploadId !== 'string') || typeof r.etags !== 'object' || r.etags === null || typeof r.completed !== 'boolean') return undefined;
  if (r.sha256 !== null && typeof r.sha256 !== 'string') return undefined;
  const etags: Record<number, string> = {};
  for (const [key, etag] of Object.entries(r.etags)) {
    const index = Number(key);
    if (!Number.isSafeInteger(index) || index < 0 || typeof etag !== 'string') return undefined;
    etags[index] = etag;
  }
  return { partBytes: r.partBytes as number, uploadId: r.uploadId, etags, completed: r.completed, sha256: r.sha256 };
}

/** How many parts a partial of `size` bytes has (none when empty). */
export function partCount(size: number, partBytes: number): number {
  return Math.ceil(size / partBytes);
}

/** The bytes part `index` covers: [index × partBytes, min(size, (index + 1) × partBytes)). */
export function partRange(size: number, partBytes: number, index: number): ByteRange {
  return [index * partBytes, Math.min(size, (index + 1) * partBytes)];
}

/** True when `ranges` (merged, as a partial keeps them) cover all of `range`. */
export function covers(ranges: readonly ByteRange[], range: ByteRange): boolean {
  return ranges.some(([start, end]) => start <= range[0] && end >= range[1]);
}
