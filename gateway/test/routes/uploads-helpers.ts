import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Upload, type UploadOptions } from 'tus-js-client';
import { PARTIALS_DIR_NAME } from 'tor-server/server';
import { ApiPath, TUS_CONTENT_TYPE, TUS_VERSION } from '../../src/api/index.js';

/** Request headers every tus request carries. */
export const TUS = { 'tus-resumable': TUS_VERSION } as const;

/** `Upload-Metadata` naming the file. */
export function nameMetadata(name: string): string {
  return `filename ${Buffer.from(name).toString('base64')}`;
}

/** `Upload-Checksum` of `data` with `algorithm`. */
export function checksumOf(data: Buffer, algorithm: 'sha256' | 'sha1' = 'sha256'): string {
  return `${algorithm} ${createHash(algorithm).update(data).digest('base64')}`;
}

/** POSTs a new upload of `size` bytes named `name`; returns its URL (absolute) after asserting 201. */
export async function createUpload(base: string, name: string, size: number): Promise<string> {
  const response = await fetch(`${base}${ApiPath.uploads}`, { method: 'POST', headers: { ...TUS, 'upload-length': String(size), 'upload-metadata': nameMetadata(name) } });
  if (response.status !== 201) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
  return new URL(response.headers.get('location')!, base).href;
}

/** PATCHes `data` at `offset`, with extra headers. */
export function patch(url: string, offset: number, data: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'PATCH', headers: { ...TUS, 'content-type': TUS_CONTENT_TYPE, 'upload-offset': String(offset), ...headers }, body: data });
}

/** HEAD of an upload URL. */
export function head(url: string): Promise<Response> {
  return fetch(url, { method: 'HEAD', headers: TUS });
}

/** The Upload-Offset a HEAD reports (asserting 200). */
export async function offsetOf(url: string): Promise<number> {
  const response = await head(url);
  if (response.status !== 200) throw new Error(`HEAD answered ${response.status}`);
  return Number(response.headers.get('upload-offset'));
}

/** The unfinished uploads the tor-server holds in its folder (their files in `.tor-partials`). */
export async function partialFiles(dir: string): Promise<string[]> {
  return (await readdir(path.join(dir, PARTIALS_DIR_NAME)).catch(() => [])).sort();
}

/** Runs a tus-js-client upload to its end: resolves on success, rejects with its error. */
export function runTus(data: Buffer, options: UploadOptions): { upload: Upload; done: Promise<void> } {
  let upload!: Upload;
  const done = new Promise<void>((resolve, reject) => {
    upload = new Upload(data, { retryDelays: null, ...options, onSuccess: () => resolve(), onError: (error) => reject(error) });
  });
  upload.start();
  return { upload, done };
}
