import { ListObjectsV2Command, ListPartsCommand } from '@aws-sdk/client-s3';
import { deadline, type S3Bucket } from './s3-bucket.js';

/** A multipart upload under the partials' hidden key prefix. */
export interface ListedUpload {
  id: string;
  uploadId: string;
  initiated: number;
}

/** A completed hidden object under the partials' prefix. */
export interface ListedObject {
  id: string;
  size: number;
  modified: number;
}

/** The multipart uploads whose keys are `<prefix><hidden>/<id>`; throws the SDK's error. */
export async function listHiddenUploads(bucket: S3Bucket, hidden: string): Promise<ListedUpload[]> {
  const prefix = bucket.key(hidden);
  return (await bucket.multipartUploads(prefix)).map((upload) => ({ id: upload.key.slice(prefix.length), uploadId: upload.uploadId, initiated: upload.initiated }));
}

/** The objects whose keys are `<prefix><hidden>/<id>`; throws the SDK's error. */
export async function listHiddenObjects(bucket: S3Bucket, hidden: string): Promise<ListedObject[]> {
  const prefix = bucket.key(hidden);
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await bucket.client.send(new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: prefix, ContinuationToken: token }), deadline());
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined) out.push({ id: object.Key.slice(prefix.length), size: object.Size ?? 0, modified: object.LastModified?.getTime() ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return out;
}

/** The parts the engine has of one multipart upload, by PartNumber: their ETag and size; throws the SDK's error. */
export async function listUploadedParts(bucket: S3Bucket, key: string, uploadId: string): Promise<Map<number, { etag: string; size: number }>> {
  const parts = new Map<number, { etag: string; size: number }>();
  let marker: string | undefined;
  do {
    const page = await bucket.client.send(new ListPartsCommand({ Bucket: bucket.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }), deadline());
    for (const part of page.Parts ?? []) {
      if (part.PartNumber !== undefined && part.ETag !== undefined) parts.set(part.PartNumber, { etag: part.ETag, size: part.Size ?? 0 });
    }
    marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (marker !== undefined);
  return parts;
}
