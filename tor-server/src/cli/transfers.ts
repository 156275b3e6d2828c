import { createHash } from 'node:crypto';
import { createReadStream, writeSync, type ReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { TftcpClient } from '../client/tftcp-client.js';
import { TftcpConnectionError } from '../client/errors.js';
import type { FileEntry } from '../protocol/file-row.js';

/** Where the CLI keeps its files: `<home>/tor-files/Downloads` and `<home>/tor-files/Uploads`. */
export interface ClientFolders {
  downloads: string;
  uploads: string;
}

/** Creates the tor-files folders under `home` and returns their paths. */
export async function ensureFolders(home: string): Promise<ClientFolders> {
  const base = path.resolve(home, 'tor-files');
  const folders = { downloads: path.join(base, 'Downloads'), uploads: path.join(base, 'Uploads') };
  await fs.mkdir(folders.downloads, { recursive: true });
  await fs.mkdir(folders.uploads, { recursive: true });
  return folders;
}

/** Progress callbacks for a transfer: `start` once the size is known, then `progress`. */
export interface TransferHooks {
  start?(total: number, alreadyDone: number): void;
  progress?(done: number): void;
}

/** What a finished download produced. */
export interface DownloadResult {
  path: string;
  size: number;
  /** Bytes that came from an earlier, interrupted attempt. */
  resumedFrom: number;
  /** The sha256 the server gave and the saved bytes have, when asked to verify. */
  sha256?: string;
}

/** The downloaded bytes do not have the sha256 the server gives for the file; nothing was saved. */
export class VerificationError extends Error {
  readonly code = 'TOR_ERR_VERIFY';
}

/**
 * Downloads `name` into the downloads folder. Bytes go to a hidden part file first, which
 * is renamed when complete; an existing file is never overwritten (`name (1).ext`). If an
 * earlier attempt was cut, the part file is continued with `range`, as long as the
 * server's file still has the same size and modification time.
 */
export async function downloadFile(client: TftcpClient, name: string, folders: ClientFolders, hooks: TransferHooks = {}, options: { verify?: boolean } = {}): Promise<DownloadResult> {
  const entry = (await client.search(name)).find((e) => e.name === name);
  const { partPath, infoPath } = partPaths(folders.downloads, name);
  const offset = entry ? await resumableBytes(partPath, infoPath, entry) : 0;

  const incoming = offset > 0 ? await client.range(name, offset, entry!.size - offset) : await client.download(name);
  const total = offset + incoming.size;
  // The part file's sidecar remembers the server's row, so a resume only continues the same file.
  if (entry && offset === 0) await fs.writeFile(infoPath, JSON.stringify({ name, size: entry.size, modified: entry.modified } satisfies FileEntry));
  hooks.start?.(total, offset);
  let done = offset;
  const part = await fs.open(partPath, offset > 0 ? 'a' : 'w');
  try {
    // Each socket read is written out before the next one is taken (a CLI has nothing else to
    // do meanwhile): no stream hops, no copies, no thread hand-off, and the socket waits while
    // the disk is behind. With streams and a write buffer this ran at half the socket's speed.
    incoming.stream.sendTo((chunk) => {
      writeFully(part.fd, chunk);
      done += chunk.length;
      hooks.progress?.(done);
    });
    await finished(incoming.stream);
    await part.sync();
  } catch (error) {
    if (!client.closed) throw error;
    throw new TftcpConnectionError(`the connection to ${client.host}:${client.port} was lost after ${done} of ${total} bytes`, { cause: error });
  } finally {
    await part.close();
  }

  const sha256 = options.verify ? await verifyPart(client, name, partPath, infoPath) : undefined;
  const target = await linkUnique(partPath, folders.downloads, name);
  await fs.rm(partPath, { force: true });
  await fs.rm(infoPath, { force: true });
  return { path: target, size: total, resumedFrom: offset, sha256 };
}

/** Writes all of `chunk` at the file's position (a regular file may take fewer bytes per call). */
function writeFully(fd: number, chunk: Buffer): void {
  for (let written = 0; written < chunk.length; ) written += writeSync(fd, chunk, written);
}

/**
 * Compares the complete part file with the server's sha256 of the file. On a mismatch the part
 * is thrown away (resuming it would only keep the wrong bytes) and VerificationError says so.
 */
async function verifyPart(client: TftcpClient, name: string, partPath: string, infoPath: string): Promise<string> {
  const [expected, actual] = await Promise.all([client.hash(name), hashLocalFile(partPath)]);
  if (expected === actual) return actual;
  await fs.rm(partPath, { force: true });
  await fs.rm(infoPath, { force: true });
  const server = expected === undefined ? `${name} is no longer on the server` : `the server's sha256 is ${expected}`;
  throw new VerificationError(`Verification failed: the downloaded bytes have sha256 ${actual}, but ${server}. Nothing was saved; the file may have changed on the server during the download, run the download again.`);
}

/** sha256 of a local file, streamed. */
async function hashLocalFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What a finished upload sent. */
export interface UploadResult {
  name: string;
  size: number;
}

/**
 * Uploads a local file. `file` is a name in the uploads folder or, failing that, a path;
 * the server stores it under the file's base name.
 */
export async function uploadFile(client: TftcpClient, file: string, folders: ClientFolders, hooks: TransferHooks = {}): Promise<UploadResult> {
  const local = await findLocal(file, folders.uploads);
  const name = path.basename(local);
  const handle = await fs.open(local, 'r');
  // One owner for the handle: this function until the stream is made, then the stream (which closes it).
  let source: ReadStream | undefined;
  try {
    const { size } = await handle.stat();
    hooks.start?.(size, 0);
    source = handle.createReadStream({ highWaterMark: 256 * 1024 });
    await client.upload(name, size, source, { onProgress: (sent) => hooks.progress?.(sent) });
    return { name, size };
  } finally {
    if (source) source.destroy();
    else await handle.close();
  }
}

/** Bytes of a resumable part file for `entry`, or 0 (and no stale part left) when there is none. */
async function resumableBytes(partPath: string, infoPath: string, entry: FileEntry): Promise<number> {
  try {
    const info = JSON.parse(await fs.readFile(infoPath, 'utf8')) as FileEntry;
    const { size } = await fs.stat(partPath);
    if (info.name === entry.name && info.size === entry.size && info.modified === entry.modified && size < entry.size) return size;
  } catch {
    // No part, no sidecar, or a sidecar we cannot read: start over.
  }
  await fs.rm(partPath, { force: true });
  await fs.rm(infoPath, { force: true });
  return 0;
}

function partPaths(downloads: string, name: string): { partPath: string; infoPath: string } {
  // Hashed, because `.<name>.part` could exceed the file system's 255-byte name limit.
  const id = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return { partPath: path.join(downloads, `.tor-part-${id}`), infoPath: path.join(downloads, `.tor-part-${id}.json`) };
}

/** Gives the complete part file its name, or `name (1).ext`, `name (2).ext`, ... when taken. */
async function linkUnique(source: string, dir: string, name: string): Promise<string> {
  const ext = path.extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 0; ; n++) {
    const candidate = path.join(dir, n === 0 ? name : `${stem} (${n})${ext}`);
    try {
      // link fails with EEXIST instead of replacing, so a file that appears meanwhile is safe too.
      await fs.link(source, candidate);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** The local file `file` names: in the uploads folder, or else a path; LocalFileError when there is none. */
export async function findLocal(file: string, uploads: string): Promise<string> {
  for (const candidate of [path.join(uploads, file), path.resolve(file)]) {
    const stat = await fs.stat(candidate).catch(() => undefined);
    if (stat?.isFile()) return candidate;
  }
  throw new LocalFileError(`No file "${file}" in ${uploads}. Put it there first, or give a path to a file.`);
}

/** A problem on this machine (not the server's): missing local file and the like. */
export class LocalFileError extends Error {
  readonly code = 'TOR_ERR_LOCAL';
}
