import { Upload, type PreviousUpload, type UrlStorage } from 'tus-js-client';
import { HttpStatus, TUS_VERSION, TusHeader } from 'gateway/api';
import { RETRY_DELAYS_MS } from './upload-tus.js';

/** An upload a previous visit of this page left unfinished, as the transfer panel lists it. */
export interface UnfinishedUpload {
  /** Its entry in tus-js-client's URL storage (localStorage). */
  key: string;
  url: string;
  name: string;
  size: number;
  /** Bytes the server holds from the start; null when the gateway could not be asked. */
  offset: number | null;
}

/**
 * The uploads tus-js-client remembers in `storage` (the browser's localStorage) that are still
 * on the server, with the bytes it holds of each (a HEAD each); the ones the server no longer
 * has (expired, cancelled) or holds complete (committed) are forgotten.
 */
export async function findUnfinished(storage: UrlStorage): Promise<UnfinishedUpload[]> {
  const found: UnfinishedUpload[] = [];
  for (const upload of await storage.findAllUploads()) {
    const described = describe(upload);
    if (!described) continue;
    const offset = await offsetOf(described.url);
    // Complete: stored under its name (its last answer lost, or the page closed right then).
    if (offset === 'gone' || offset === described.size) await storage.removeUpload(upload.urlStorageKey);
    else found.push({ ...described, offset });
  }
  return found;
}

/** Throws an unfinished upload away on the server, and forgets it here. */
export async function discardUnfinished(storage: UrlStorage, upload: UnfinishedUpload): Promise<void> {
  await Upload.terminate(upload.url, { retryDelays: RETRY_DELAYS_MS.slice(0, 4) }).catch(() => {});
  await storage.removeUpload(upload.key);
}

function describe(upload: PreviousUpload): Omit<UnfinishedUpload, 'offset'> | undefined {
  const name = upload.metadata['filename'];
  if (!upload.uploadUrl || upload.size === null || name === undefined) return undefined;
  return { key: upload.urlStorageKey, url: upload.uploadUrl, name, size: upload.size };
}

async function offsetOf(url: string): Promise<number | null | 'gone'> {
  try {
    const response = await fetch(url, { method: 'HEAD', headers: { [TusHeader.resumable]: TUS_VERSION } });
    if (response.status === HttpStatus.NOT_FOUND) return 'gone';
    const offset = Number(response.headers.get(TusHeader.uploadOffset));
    return response.ok && Number.isSafeInteger(offset) ? offset : null;
  } catch {
    return null;
  }
}
