import type { FileChange } from '../../protocol/changes.js';

/** The last `capacity` changes, in seq order (consecutive seqs), for replay to a reconnecting watcher. */
export class ChangeRing {
  readonly #slots: (FileChange | undefined)[];
  /** Index of the oldest change held. */
  #start = 0;
  #count = 0;

  constructor(capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('a change ring holds at least one change');
    this.#slots = new Array<FileChange | undefined>(capacity);
  }

  /** Adds the next change, dropping the oldest when full. */
  push(change: FileChange): void {
    const capacity = this.#slots.length;
    this.#slots[(this.#start + this.#count) % capacity] = change;
    if (this.#count < capacity) this.#count++;
    else this.#start = (this.#start + 1) % capacity;
  }

  /**
   * The changes after seq `since`, oldest first; undefined when some of them were already
   * dropped. `since` must not be past the newest seq.
   */
  after(since: number): FileChange[] | undefined {
    if (this.#count === 0) return [];
    const oldest = this.#slots[this.#start]!.seq;
    if (since < oldest - 1) return undefined;
    const skip = since - oldest + 1;
    const out: FileChange[] = [];
    for (let i = Math.max(0, skip); i < this.#count; i++) out.push(this.#slots[(this.#start + i) % this.#slots.length]!);
    return out;
  }
}
