import type { Upload } from '../store/store.js';
import type { Partial } from './partial.js';

/** One put's bytes on their way into a partial, from its offset on; it owns what it opened until {@link close}. */
export interface PartialBytesWriter {
  /** Bytes written so far, from the offset on (not those still gathered for a batch, nor those of a failed write). */
  readonly written: number;
  /** Writes all of `chunk` next; throws a StoreError (the disk is full), after which nothing more is written. */
  write(chunk: Buffer): Promise<void>;
  /** Makes what was written durable, then records it as stored in the partial; throws a StoreError. */
  keep(): Promise<void>;
  /** Releases what the writer opened. Never throws. */
  close(): Promise<void>;
}

/**
 * Where a store keeps a partial's bytes between `begin` and `commit`: the folder in one data
 * file linked into place at commit, an object store in a multipart upload. The commands and the
 * PartialStore never see which.
 */
export interface PartialBytes {
  /** Makes room for a new partial's bytes (at `begin`, before its index is first written); throws a StoreError. */
  create(partial: Partial): Promise<void>;
  /**
   * Of the partials an earlier run left (read from their indexes), those whose bytes are still
   * there, with their ranges corrected to what is; the caller deletes the others' files.
   */
  restore(partials: Partial[]): Promise<Partial[]>;
  /** Opens a put's writer at `offset`; throws a StoreError. */
  openWriter(partial: Partial, offset: number): Promise<PartialBytesWriter>;
  /** Makes a complete partial's bytes whole where they wait and answers their sha256 (64 lower-case hex digits); throws a StoreError. */
  seal(partial: Partial): Promise<string>;
  /** The Upload that stores the sealed bytes under the partial's name, with their `sha256`. */
  adopt(partial: Partial, sha256: string): Promise<Upload>;
  /** Deletes the partial's bytes (its index is gone already). Never throws. */
  discard(partial: Partial): Promise<void>;
  /** Cleans up what no live partial (`live`: their ids) uses any more; called now and then. Never throws. */
  sweep(live: ReadonlySet<string>): Promise<void>;
}
