/**
 * The tus 1.0.0 side of the contract (https://tus.io/protocols/resumable-upload): the header
 * names, extensions and limits of `/api/uploads/`, shared by the gateway's endpoint and the
 * web app's uploads. Browser-safe, like everything in `gateway/src/api/`.
 */
import { ApiPath } from './paths.js';

/** The one tus version spoken, sent as `Tus-Resumable` and `Tus-Version`. */
export const TUS_VERSION = '1.0.0';

/** The header names of tus 1.0.0 (lower-case, as Node hands them over). */
export const TusHeader = {
  resumable: 'tus-resumable',
  version: 'tus-version',
  extension: 'tus-extension',
  maxSize: 'tus-max-size',
  checksumAlgorithm: 'tus-checksum-algorithm',
  uploadOffset: 'upload-offset',
  uploadLength: 'upload-length',
  uploadDeferLength: 'upload-defer-length',
  uploadMetadata: 'upload-metadata',
  uploadExpires: 'upload-expires',
  uploadChecksum: 'upload-checksum',
} as const;

/** The extensions `/api/uploads/` implements, as `OPTIONS` lists them. */
export const TUS_EXTENSIONS = ['creation', 'creation-with-upload', 'termination', 'expiration', 'checksum'] as const;

/** The only body type of a `PATCH` (and of a `POST` that carries the first bytes). */
export const TUS_CONTENT_TYPE = 'application/offset+octet-stream';

/** `Upload-Checksum: <algorithm> <base64 digest>`, each algorithm a Node and WebCrypto name. */
export const TUS_CHECKSUM_ALGORITHMS = ['sha256', 'sha1'] as const;
export type TusChecksumAlgorithm = (typeof TUS_CHECKSUM_ALGORITHMS)[number];

/** The `Upload-Metadata` keys a file's name is read from, in this order (Uppy and tus-js-client send `filename`). */
export const TUS_NAME_KEYS = ['filename', 'name'] as const;

/**
 * How the message of a 409 begins when the upload's name was taken before it was committed (the
 * tor-server's words): unlike a 409 for a stale Upload-Offset, trying again cannot help, and
 * the upload is gone. The upload is to be sent again under another name.
 */
export const TUS_NAME_TAKEN = 'File already exists';

/** The status of a `PATCH` whose bytes do not match its `Upload-Checksum` (tus's checksum extension). */
export const TUS_CHECKSUM_MISMATCH_STATUS = 460;

/**
 * The largest `PATCH` body that may carry an `Upload-Checksum`: it is held on the gateway's disk
 * until its digest is checked, so nothing of a mismatching chunk reaches the tor-server.
 */
export const TUS_MAX_CHECKSUM_CHUNK_BYTES = 64 * 1024 * 1024;

/** The chunk size the web app sends, each with its sha256. */
export const TUS_CHUNK_BYTES = 8 * 1024 * 1024;

/** The URL path of one upload: the tor-server's upload id under `/api/uploads/`. */
export function uploadPath(id: string): string {
  return `${ApiPath.uploads}${encodeURIComponent(id)}`;
}
