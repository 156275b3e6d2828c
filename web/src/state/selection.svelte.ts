import { extentOf, selectedAmong, toggleAll, toggleName, type SelectionExtent } from '../lib/selection.js';

/** The rows ticked for a bulk action, among the names `listed` returns (the rows on screen). */
export class SelectionState {
  readonly #listed: () => string[];
  #selected = $state.raw<ReadonlySet<string>>(new Set());

  constructor(listed: () => string[]) {
    this.#listed = listed;
  }

  /** The selected rows on screen, in list order. */
  readonly names: string[] = $derived.by(() => selectedAmong(this.#selected, this.#listed()));
  readonly extent: SelectionExtent = $derived.by(() => extentOf(this.#selected, this.#listed()));
  readonly #shown: ReadonlySet<string> = $derived(new Set(this.names));

  /** Whether the row of `name` is ticked. */
  has(name: string): boolean {
    return this.#shown.has(name);
  }

  toggle(name: string): void {
    this.#selected = toggleName(this.#selected, this.#listed(), name);
  }

  /** Selects every row on screen, or none when all are. */
  toggleAll(): void {
    this.#selected = toggleAll(this.#selected, this.#listed());
  }

  /** Unselects `names` (deleted or renamed), or everything. */
  clear(names?: readonly string[]): void {
    if (!names) this.#selected = new Set();
    else this.#selected = new Set([...this.#selected].filter((name) => !names.includes(name)));
  }
}
