import type { FileChange } from 'gateway/api';

/** How a row changed lately, for its short highlight. */
export type RowHighlight = 'added' | 'renamed';

/** How long a changed row stays highlighted. */
export const HIGHLIGHT_MS = 2500;

/**
 * The rows changed in the last few seconds, by name: `note` marks a change's row and the mark
 * goes by itself after `durationMs`. A removed row just goes (there is nothing left to mark).
 */
export class RecentChanges {
  readonly #marks = new Map<string, { kind: RowHighlight; timer: ReturnType<typeof setTimeout> }>();
  readonly #onChange: (marks: ReadonlyMap<string, RowHighlight>) => void;
  readonly #durationMs: number;

  constructor(onChange: (marks: ReadonlyMap<string, RowHighlight>) => void, durationMs = HIGHLIGHT_MS) {
    this.#onChange = onChange;
    this.#durationMs = durationMs;
  }

  /** Marks the rows `changes` touched. */
  note(changes: readonly FileChange[]): void {
    if (changes.length === 0) return;
    for (const change of changes) {
      if (change.type === 'added') this.#mark(change.file.name, 'added');
      else if (change.type === 'renamed') {
        this.#unmark(change.from);
        this.#mark(change.to, 'renamed');
      } else if (change.type === 'removed') this.#unmark(change.name);
    }
    this.#emit();
  }

  /** Drops every mark (the page is going away). */
  clear(): void {
    for (const name of [...this.#marks.keys()]) this.#unmark(name);
    this.#emit();
  }

  #mark(name: string, kind: RowHighlight): void {
    this.#unmark(name);
    const timer = setTimeout(() => {
      this.#marks.delete(name);
      this.#emit();
    }, this.#durationMs);
    this.#marks.set(name, { kind, timer });
  }

  #unmark(name: string): void {
    const mark = this.#marks.get(name);
    if (mark) clearTimeout(mark.timer);
    this.#marks.delete(name);
  }

  #emit(): void {
    this.#onChange(new Map([...this.#marks].map(([name, { kind }]) => [name, kind])));
  }
}
