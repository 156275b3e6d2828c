import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import { addRange, coveredBytes, missingRanges, overlaps, type ByteRange } from '../../protocol/ranges.js';
import type { FileName } from '../store/store.js';

/** What a partial's index file holds: everything but the bytes, which wait where its store keeps them ({@link PartialBytes}). */
export interface PartialRecord {
  readonly owner: string;
  readonly name: FileName;
  readonly size: number;
  /** The sha256 the client announced (64 lower-case hex digits), or null. */
  readonly sha256: string | null;
  /** Ranges whose bytes were fsynced before they were written here. */
  readonly ranges: ByteRange[];
  /** When the upload last moved (ms since the epoch): it expires a TTL after that. */
  readonly touchedAt: number;
  /**
   * What the bytes' home keeps about them beyond the ranges (an object store's multipart upload
   * and its parts), as that home wrote it; absent for a folder's data file and in older indexes.
   */
  readonly backend?: unknown;
}

/**
 * One resumable upload in progress: its index file, which names only ranges whose bytes were
 * fsynced first, so after a crash it claims nothing the disk does not hold (its bytes are the
 * PartialBytes' to keep). Index writes are made one at a time, each to a temp file renamed over the old.
 */
export class Partial {
  readonly id: string;
  readonly #indexPath: string;
  #record: PartialRecord;
  /** Ranges being written by a put right now: no other put may touch them. */
  readonly #busy = new Set<ByteRange>();
  /** What waits for the puts under way to end ({@link settled}). */
  readonly #settling: (() => void)[] = [];
  /** The chain of index writes, so a later one never lands before an earlier one. */
  #saving: Promise<void> = Promise.resolve();
  #committing = false;
  #gone = false;

  constructor(id: string, indexPath: string, record: PartialRecord) {
    this.id = id;
    this.#indexPath = indexPath;
    this.#record = record;
  }

  get owner(): string {
    return this.#record.owner;
  }
  get name(): FileName {
    return this.#record.name;
  }
  get size(): number {
    return this.#record.size;
  }
  get sha256(): string | undefined {
    return this.#record.sha256 ?? undefined;
  }
  get ranges(): readonly ByteRange[] {
    return this.#record.ranges;
  }
  get touchedAt(): number {
    return this.#record.touchedAt;
  }
  /** See {@link PartialRecord.backend}. */
  get backend(): unknown {
    return this.#record.backend;
  }
  /** Bytes stored so far. */
  get stored(): number {
    return coveredBytes(this.#record.ranges);
  }
  /** The ranges still to be sent. */
  get missing(): ByteRange[] {
    return missingRanges(this.#record.ranges, this.#record.size);
  }
  /** True while a put writes or a commit runs: it must not expire. */
  get active(): boolean {
    return this.#busy.size > 0 || this.#committing;
  }
  /** True once committed, aborted, discarded or expired. */
  get gone(): boolean {
    return this.#gone;
  }

  /** Claims `range` for one put: false when another put is writing part of it, or a commit runs. */
  claim(range: ByteRange): boolean {
    if (this.#committing) return false;
    for (const busy of this.#busy) if (overlaps(busy, range)) return false;
    this.#busy.add(range);
    return true;
  }

  /** Gives a claimed range back. */
  unclaim(range: ByteRange): void {
    this.#busy.delete(range);
    if (this.#busy.size > 0) return;
    for (const settle of this.#settling.splice(0)) settle();
  }

  /**
   * Resolves once no put writes this upload (at once when none does), or after `timeoutMs`: a put
   * whose connection was just cut records what it kept only when it ends, so its ranges are final then.
   */
  settled(timeoutMs: number): Promise<void> {
    if (this.#busy.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const index = this.#settling.indexOf(done);
        if (index >= 0) this.#settling.splice(index, 1);
        resolve();
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#settling.push(done);
    });
  }

  /** Claims the whole upload for its commit: false while a put writes. */
  beginCommit(): boolean {
    if (this.#busy.size > 0 || this.#committing) return false;
    this.#committing = true;
    return true;
  }

  /** Ends a commit that did not take the upload away. */
  endCommit(): void {
    this.#committing = false;
  }

  /** Records `range` as stored (its bytes are fsynced already) and writes the index. */
  addStored(range: ByteRange, now = Date.now()): Promise<void> {
    this.#record = { ...this.#record, ranges: addRange(this.#record.ranges, range), touchedAt: now };
    return this.save();
  }

  /** Replaces what the bytes' home keeps in the index, and writes the index. */
  setBackend(backend: unknown): Promise<void> {
    this.#record = { ...this.#record, backend };
    return this.save();
  }

  /** Forgets ranges whose bytes were lost (their home no longer has them), and writes the index. */
  dropStored(lost: ByteRange): Promise<void> {
    this.#record = { ...this.#record, ranges: removeRange(this.#record.ranges, lost) };
    return this.save();
  }

  /** Marks activity without new bytes (a resumed `begin`, a `status`); the index records it with the next write. */
  touch(now = Date.now()): void {
    this.#record = { ...this.#record, touchedAt: now };
  }

  /** Writes the index as it is now, after the writes before it. */
  save(): Promise<void> {
    const next = this.#saving.then(() => (this.#gone ? undefined : writeIndex(this.#indexPath, this.#record)));
    // A failed write is the caller's to see; the chain goes on for the next one.
    this.#saving = next.catch(() => {});
    return next;
  }

  /** Deletes the index file (its bytes are their home's to delete); writes of the index still queued are dropped. Never throws. */
  async remove(): Promise<void> {
    this.#gone = true;
    await this.#saving;
    await fs.rm(this.#indexPath, { force: true }).catch(() => {});
  }
}

/** `ranges` without the bytes of `lost`. */
function removeRange(ranges: readonly ByteRange[], lost: ByteRange): ByteRange[] {
  const out: ByteRange[] = [];
  for (const [start, end] of ranges) {
    if (start < lost[0]) out.push([start, Math.min(end, lost[0])]);
    if (end > lost[1]) out.push([Math.max(start, lost[1]), end]);
  }
  return out;
}

/** Writes the index to a temp file, fsyncs it, and renames it into place: a crash leaves the old index or the new, never half of one. */
async function writeIndex(indexPath: string, record: PartialRecord): Promise<void> {
  const temp = `${indexPath}.tmp`;
  const handle = await fs.open(temp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, 0o600);
  try {
    await handle.writeFile(JSON.stringify(record));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fs.rename(temp, indexPath);
}

/** The record in an index file's text; undefined when it is not one (a torn or foreign file). */
export function parseRecord(text: string, checkName: (name: string) => FileName | undefined): PartialRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = value as { [K in keyof PartialRecord]?: unknown };
  if (typeof r !== 'object' || r === null || typeof r.owner !== 'string' || typeof r.name !== 'string') return undefined;
  const name = checkName(r.name);
  if (!name || !Number.isSafeInteger(r.size) || (r.sha256 !== null && typeof r.sha256 !== 'string') || !Number.isFinite(r.touchedAt) || !Array.isArray(r.ranges)) return undefined;
  const size = r.size as number;
  let ranges: ByteRange[] = [];
  for (const range of r.ranges as unknown[]) {
    if (!Array.isArray(range) || range.length !== 2 || !range.every(Number.isSafeInteger) || range[0] < 0 || range[1] > size) return undefined;
    ranges = addRange(ranges, [range[0], range[1]]);
  }
  return { owner: r.owner, name, size, sha256: r.sha256 as string | null, ranges, touchedAt: r.touchedAt as number, ...(r.backend !== undefined && { backend: r.backend }) };
}
