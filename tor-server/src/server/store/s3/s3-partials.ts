import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import { createDataFile, dataFileOf, sha256OfFile } from '../../partials/folder-partial-bytes.js';
import type { Partial } from '../../partials/partial.js';
import type { PartialBytes, PartialBytesWriter } from '../../partials/partial-bytes.js';
import { PartialWriter } from '../../partials/partial-writer.js';
import { StoreError, type FileName, type Upload } from '../store.js';
import { isNotFound, s3StoreError } from './s3-errors.js';
import { S3PartialCommit, type S3CommitContext } from './s3-partial-commit.js';
import { listHiddenObjects, listHiddenUploads } from './s3-partial-listing.js';
import { newS3Record, parseS3Record, partCount, partRange, covers, type S3PartialRecord } from './s3-partial-record.js';
import { restoreS3Partials } from './s3-partial-restore.js';
import { completeHidden, readBack } from './s3-partial-seal.js';
import { readPartFile } from './s3-multipart.js';
import { PartsWriter, type PartFiles } from './s3-partial-writer.js';
import { PARTS_IN_FLIGHT } from './s3-settings.js';

/** Hidden key folder (under the store's prefix) of the partials' multipart uploads: names starting with `.` are never served or listed. */
export const PARTIALS_KEY_DIR = '.tor-partials/';
const PART_SUFFIX = '.part';
/** Uploads and hidden objects of no live partial are looked for this often at most, and removed once this old. */
export const ORPHAN_SWEEP_MS = 15 * 60_000;

/** What the S3 store lends its partials. */
export interface S3PartialContext extends S3CommitContext {
  /** The local partials folder. */
  dir: string;
  /** Part size of new partials. */
  partBytes: number;
  /** The store's Upload of a complete local file (one conditional PutObject for a partial of one part). */
  adoptFile(name: FileName, file: string, sha256: string): Promise<Upload>;
}

/** What one partial has going on in this run (never in its index). */
export interface RunningPartial {
  /** sha256 over parts [0, hashed), fed as they become whole; undefined after a restart (the commit reads the object back). */
  hash: Hash | undefined;
  hashed: number;
  /** Parts going up now, by index (at most PARTS_IN_FLIGHT). */
  readonly sending: Map<number, Promise<void>>;
  /** The CreateMultipartUpload in flight, so two parts never make two uploads. */
  creating: Promise<string> | undefined;
  /** Hashing and deleting of part files, one step at a time. */
  settling: Promise<void>;
  /** Why the last part failed to go up. */
  lastError: StoreError | undefined;
  /** Whole parts a put is writing again: they wait here until it is over. */
  readonly rewriting: Set<number>;
  /** Stops the parts on their way up when the partial is thrown away (a hung engine must not hold an abort). */
  readonly stop: AbortController;
}

/**
 * Partials of the S3 store. One not larger than a part waits whole in one local file and is
 * stored with one conditional PutObject at commit. A larger one is a multipart upload at the
 * hidden key `<prefix>.tor-partials/<id>`: its bytes wait in a local file per part (`<id>.<k>.part`)
 * only until the part is whole and has gone up (and been hashed), so the local folder holds the
 * parts being filled and those on their way, not the file. Commit completes the upload into the
 * hidden object, checks the sha256, then copies it under its name (claimed first) and deletes it.
 */
export class S3PartialBytes implements PartialBytes, PartFiles {
  readonly #ctx: S3PartialContext;
  readonly #running = new Map<string, RunningPartial>();
  #sweptAt = Date.now();

  constructor(ctx: S3PartialContext) {
    this.#ctx = ctx;
  }

  /** The hidden object name of a partial's multipart upload (a key under the store's prefix). */
  hiddenName(id: string): string {
    return PARTIALS_KEY_DIR + id;
  }

  partPath(partial: Partial | string, index: number): string {
    return path.join(this.#ctx.dir, `${typeof partial === 'string' ? partial : partial.id}.${index}${PART_SUFFIX}`);
  }

  /** The one local file of a partial not larger than a part, as the folder store's: `<id>.data`. */
  wholeFile(partial: Partial | string): string {
    return dataFileOf(this.#ctx.dir, typeof partial === 'string' ? partial : partial.id);
  }

  partBytes(partial: Partial): number {
    return this.record(partial).partBytes;
  }

  uploaded(partial: Partial, index: number): boolean {
    return this.record(partial).etags[index] !== undefined;
  }

  /** The partial's record; a live partial always has one (set at begin or restore). */
  record(partial: Partial): S3PartialRecord {
    const record = partial.backend as S3PartialRecord | undefined;
    if (!record) throw new StoreError('unavailable', `partial ${partial.id} has no S3 record`);
    return record;
  }

  /** Partials of more than one part go up as a multipart upload; smaller ones at commit. */
  #multipart(partial: Partial): boolean {
    return partCount(partial.size, this.record(partial).partBytes) > 1;
  }

  /** What this run knows of the partial beyond its index: a restored one starts with no running hash. */
  running(partial: Partial, fresh = false): RunningPartial {
    let run = this.#running.get(partial.id);
    if (!run) {
      run = { hash: fresh ? createHash('sha256') : undefined, hashed: 0, sending: new Map(), creating: undefined, settling: Promise.resolve(), lastError: undefined, rewriting: new Set(), stop: new AbortController() };
      this.#running.set(partial.id, run);
    }
    return run;
  }

  async create(partial: Partial): Promise<void> {
    await partial.setBackend(newS3Record(this.#ctx.partBytes));
    if (this.#multipart(partial)) this.running(partial, true);
    else await createDataFile(this.wholeFile(partial));
  }

  restore(partials: Partial[]): Promise<Partial[]> {
    return restoreS3Partials(this, this.#ctx, partials);
  }

  openWriter(partial: Partial, offset: number): Promise<PartialBytesWriter> {
    if (!this.#multipart(partial)) return PartialWriter.open(partial, this.wholeFile(partial), offset);
    return Promise.resolve(new PartsWriter(this, partial, offset));
  }

  /** A put's share of part `index` is stored: once the part is whole, it is hashed and goes up. */
  async stored(partial: Partial, index: number): Promise<void> {
    if (!this.whole(partial, index)) return;
    await this.#settle(partial);
    const run = this.running(partial);
    // Parts an earlier failure left here go up too, so a put after an outage catches up.
    const retry = run.lastError !== undefined;
    await this.#send(partial, index);
    if (!retry) return;
    for (let k = 0; k < partCount(partial.size, this.record(partial).partBytes); k++) {
      if (!this.uploaded(partial, k) && this.whole(partial, k) && !run.sending.has(k)) await this.#send(partial, k);
    }
  }

  async seal(partial: Partial): Promise<string> {
    if (!this.#multipart(partial)) return sha256OfFile(this.wholeFile(partial));
    const record = this.record(partial);
    const run = this.running(partial);
    const parts = partCount(partial.size, record.partBytes);
    if (!record.completed) {
      await drain(run);
      for (let k = 0; k < parts; k++) if (!this.uploaded(partial, k)) await this.#send(partial, k);
      await drain(run);
      for (let k = 0; k < parts; k++) {
        if (!this.uploaded(partial, k)) throw run.lastError ?? new StoreError('unavailable', `part ${k + 1} of ${partial.name} did not go up`);
      }
      await completeHidden(this, this.#ctx, partial, record, parts);
    }
    if (record.sha256 === null) {
      await run.settling;
      const hex = run.hash && run.hashed === parts ? run.hash.digest('hex') : await readBack(this.#ctx.bucket, this.hiddenName(partial.id), partial.name);
      run.hash = undefined;
      record.sha256 = hex;
      await partial.setBackend(record);
    }
    return record.sha256;
  }

  async adopt(partial: Partial, sha256: string): Promise<Upload> {
    if (!this.#multipart(partial)) return this.#ctx.adoptFile(partial.name, this.wholeFile(partial), sha256);
    return new S3PartialCommit(this.#ctx, this.hiddenName(partial.id), partial.name, partial.size, sha256);
  }

  async discard(partial: Partial): Promise<void> {
    const run = this.#running.get(partial.id);
    if (run) {
      run.stop.abort();
      await drain(run);
      await run.settling;
      this.#running.delete(partial.id);
    }
    const record = parseS3Record(partial.backend);
    if (record?.uploadId && !record.completed) await this.abortUpload(partial.id, record.uploadId);
    if (record?.completed) await this.deleteHidden(partial.id);
    await this.removeLocalFiles(partial.id);
  }

  async sweep(live: ReadonlySet<string>): Promise<void> {
    const now = Date.now();
    if (now - this.#sweptAt < ORPHAN_SWEEP_MS) return;
    this.#sweptAt = now;
    const { bucket, logger } = this.#ctx;
    try {
      for (const upload of await listHiddenUploads(bucket, PARTIALS_KEY_DIR)) {
        if (!live.has(upload.id) && now - upload.initiated >= ORPHAN_SWEEP_MS) await this.abortUpload(upload.id, upload.uploadId);
      }
      for (const object of await listHiddenObjects(bucket, PARTIALS_KEY_DIR)) {
        if (!live.has(object.id) && now - object.modified >= ORPHAN_SWEEP_MS) await this.deleteHidden(object.id);
      }
    } catch (error) {
      logger.warn('s3-partials-sweep-failed', { error: s3StoreError(error, 'sweep the partials').message });
    }
  }

  /** Aborts a partial's multipart upload (one already gone is fine). Never throws: one left over goes at the next start or sweep. */
  async abortUpload(id: string, uploadId: string): Promise<void> {
    const { bucket, logger } = this.#ctx;
    try {
      await bucket.abortMultipart(bucket.key(this.hiddenName(id)), uploadId);
      logger.info('s3-partial-upload-aborted', { id });
    } catch (error) {
      if (!isNotFound(error)) logger.warn('s3-abort-failed', { id, error: s3StoreError(error, 'abort').message, note: 'the next start or sweep aborts it' });
    }
  }

  /** Deletes a partial's completed hidden object. Never throws: one left over goes at the next start or sweep. */
  async deleteHidden(id: string): Promise<void> {
    await this.#ctx.bucket.delete(this.hiddenName(id)).catch((error: unknown) => {
      this.#ctx.logger.warn('s3-partial-object-kept', { id, error: (error as Error).message, note: 'the next start or sweep deletes it' });
    });
  }

  /** Deletes every local file of a partial's bytes (its part files, or its whole file). Never throws. */
  async removeLocalFiles(id: string): Promise<void> {
    await fs.rm(this.wholeFile(id), { force: true }).catch(() => {});
    const files = await fs.readdir(this.#ctx.dir).catch(() => [] as string[]);
    for (const file of files) if (file.startsWith(`${id}.`) && file.endsWith(PART_SUFFIX)) await fs.rm(path.join(this.#ctx.dir, file), { force: true }).catch(() => {});
  }

  whole(partial: Partial, index: number): boolean {
    return covers(partial.ranges, partRange(partial.size, this.record(partial).partBytes, index));
  }

  async rewriting(partial: Partial, index: number): Promise<void> {
    const run = this.running(partial);
    run.rewriting.add(index);
    await run.sending.get(index);
    await run.settling;
    // Bytes still here get written again: what was or will be hashed of them may not be what is stored.
    if (run.hash && !this.uploaded(partial, index)) {
      run.hash = undefined;
      this.#ctx.logger.info('s3-partial-hash-dropped', { id: partial.id, part: index + 1, note: 'a part was put again; the commit reads the stored object back to hash it' });
    }
  }

  rewritten(partial: Partial, index: number): void {
    this.#running.get(partial.id)?.rewriting.delete(index);
  }

  /** Sends part `index` up once fewer than PARTS_IN_FLIGHT of this partial are on their way (the caller waits: backpressure); a failure only leaves it here. */
  async #send(partial: Partial, index: number): Promise<void> {
    const run = this.running(partial);
    while (run.sending.size >= PARTS_IN_FLIGHT) await Promise.race(run.sending.values());
    if (partial.gone || run.sending.has(index) || run.rewriting.has(index) || this.uploaded(partial, index)) return;
    const sending = this.#upload(partial, index)
      .then(
        () => {
          run.lastError = undefined;
        },
        (error: unknown) => {
          if (run.stop.signal.aborted) return;
          run.lastError = s3StoreError(error, `send part ${index + 1} of ${partial.name}`);
          this.#ctx.bucket.note(run.lastError);
          this.#ctx.logger.warn('s3-partial-part-failed', { id: partial.id, part: index + 1, error: run.lastError.message, note: 'its bytes stay here and go up at the next put or at commit' });
        },
      )
      .finally(() => run.sending.delete(index));
    run.sending.set(index, sending);
  }

  async #upload(partial: Partial, index: number): Promise<void> {
    const { bucket } = this.#ctx;
    const uploadId = await this.#uploadIdOf(partial);
    const [start, end] = partRange(partial.size, this.record(partial).partBytes, index);
    const etag = await bucket.uploadPart(this.hiddenName(partial.id), uploadId, index + 1, readPartFile(this.partPath(partial, index)), end - start, this.running(partial).stop.signal);
    bucket.note();
    if (partial.gone) return;
    const record = this.record(partial);
    record.etags[index] = etag ?? '';
    await partial.setBackend(record);
    await this.#settle(partial, index);
  }

  /** The partial's multipart upload, created (and written in its index) with its first part. */
  #uploadIdOf(partial: Partial): Promise<string> {
    const record = this.record(partial);
    if (record.uploadId !== null) return Promise.resolve(record.uploadId);
    const run = this.running(partial);
    run.creating ??= (async () => {
      this.#ctx.checkLease();
      const { bucket } = this.#ctx;
      const uploadId = await bucket.startMultipart(this.hiddenName(partial.id));
      record.uploadId = uploadId;
      await partial.setBackend(record);
      return uploadId;
    })().finally(() => {
      run.creating = undefined;
    });
    return run.creating;
  }

  /**
   * Feeds the running hash the parts that became whole in order, and deletes the local file of
   * part `uploaded` (just gone up) and of parts just hashed once both are done. One at a time per partial.
   */
  #settle(partial: Partial, uploaded?: number): Promise<void> {
    const run = this.running(partial);
    run.settling = run.settling
      .then(async () => {
        const parts = partCount(partial.size, this.record(partial).partBytes);
        while (run.hash && run.hashed < parts && this.whole(partial, run.hashed) && !partial.gone) {
          for await (const chunk of readPartFile(this.partPath(partial, run.hashed))) run.hash.update(chunk as Buffer);
          run.hashed++;
          if (this.uploaded(partial, run.hashed - 1)) await fs.rm(this.partPath(partial, run.hashed - 1), { force: true });
        }
        if (uploaded !== undefined && (!run.hash || uploaded < run.hashed)) await fs.rm(this.partPath(partial, uploaded), { force: true });
      })
      .catch((error: unknown) => {
        // The commit reads the object back instead; part files left are deleted once uploaded.
        run.hash = undefined;
        this.#ctx.logger.warn('s3-partial-hash-dropped', { id: partial.id, error: (error as Error).message });
      });
    return run.settling;
  }
}

/** Waits until none of the partial's parts is on its way up. */
async function drain(run: RunningPartial): Promise<void> {
  while (run.sending.size > 0) await Promise.all(run.sending.values());
}
